package dev.taskid.testing;

import static org.awaitility.Awaitility.await;

import dev.taskid.client.TaskIds;
import dev.taskid.state.StateDir;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * A real daemon JVM ({@code dev.taskid.daemon.DaemonMain --dir STATE}) for tests: started,
 * awaited until it answers {@code hello} on its socket, stopped with SIGTERM or killed with
 * SIGKILL, always by its own pid. Its stderr (the log) goes to a file next to the state dir.
 */
public final class DaemonProcess implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path stateDir;
    private final Path log;
    private final Map<String, String> env;

    private DaemonProcess(Process process, Path stateDir, Path log, Map<String, String> env) {
        this.process = process;
        this.stateDir = stateDir;
        this.log = log;
        this.env = env;
    }

    /** Starts a daemon on {@code stateDir} and waits until it answers. */
    public static DaemonProcess start(Path stateDir) {
        return start(stateDir, Map.of(), List.of());
    }

    /**
     * Starts a daemon with extra environment and JVM options (e.g. {@code -Dtaskid.idleSeconds=1})
     * and waits until it answers; fails with its log if it exits first.
     */
    public static DaemonProcess start(Path stateDir, Map<String, String> env, List<String> jvmOptions) {
        return start(stateDir, env, jvmOptions, UnaryOperator.identity());
    }

    /**
     * Like {@link #start(Path, Map, List)}, with the daemon's command line passed through
     * {@code wrapper}, e.g. to run it inside {@code unshare -m} on a tmpfs of its own. The
     * wrapper must exec the command, so that {@link #pid()} is the daemon's.
     */
    public static DaemonProcess start(
            Path stateDir, Map<String, String> env, List<String> jvmOptions, UnaryOperator<List<String>> wrapper) {
        return awaitUp(launch(stateDir, env, jvmOptions, wrapper));
    }

    /**
     * Starts a daemon the way {@code taskid daemon} does in a repository: no {@code --dir},
     * working directory {@code cwd}, so it finds its state as users' CLIs do.
     */
    public static DaemonProcess startIn(Path cwd, List<String> jvmOptions) {
        StateDir dir = StateDir.locate(cwd, null);
        return awaitUp(launch(dir.dir(), Map.of(), jvmOptions, c -> c, List.of(), cwd));
    }

    /** Starts a daemon with extra daemon arguments (e.g. --lock-timeout) and returns at once. */
    public static DaemonProcess launch(Path stateDir, List<String> daemonArgs) {
        return launch(stateDir, Map.of(), List.of(), UnaryOperator.identity(), daemonArgs, null);
    }

    private static DaemonProcess awaitUp(DaemonProcess d) {
        try {
            await().atMost(START_TIMEOUT)
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> !d.process.isAlive() || d.answers());
        } catch (RuntimeException e) {
            d.close();
            throw new AssertionError("the daemon did not come up:\n" + d.log(), e);
        }
        if (!d.process.isAlive()) {
            throw new AssertionError("the daemon exited with " + d.process.exitValue() + ":\n" + d.log());
        }
        return d;
    }

    /** Starts a daemon and returns at once, e.g. to see a start that must fail. */
    public static DaemonProcess launch(Path stateDir, Map<String, String> env, List<String> jvmOptions) {
        return launch(stateDir, env, jvmOptions, UnaryOperator.identity());
    }

    private static DaemonProcess launch(
            Path stateDir, Map<String, String> env, List<String> jvmOptions, UnaryOperator<List<String>> wrapper) {
        return launch(stateDir, env, jvmOptions, wrapper, List.of(), null);
    }

    /** {@code cwd} null: run with {@code --dir stateDir}; else in {@code cwd} without it. */
    private static DaemonProcess launch(
            Path stateDir,
            Map<String, String> env,
            List<String> jvmOptions,
            UnaryOperator<List<String>> wrapper,
            List<String> daemonArgs,
            Path cwd) {
        List<String> command = new ArrayList<>(List.of(Processes.java(), "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", Processes.testClassPath(), "dev.taskid.daemon.DaemonMain"));
        if (cwd == null) {
            command.addAll(List.of("--dir", stateDir.toString()));
        }
        command.addAll(daemonArgs);
        Path logDir = cwd == null ? stateDir.getParent() : cwd.getParent();
        Path log = logDir.resolve(stateDir.getFileName() + "-daemon-" + System.nanoTime() + ".log");
        ProcessBuilder pb = new ProcessBuilder(wrapper.apply(command))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        pb.environment().remove("TASKID_DIR");
        pb.environment().remove("TASKID_BACKEND");
        pb.environment().remove("TASKID_BACKEND_PROJECT");
        pb.environment().remove("LISTEN_PID");
        pb.environment().remove("LISTEN_FDS");
        pb.environment().remove("NOTIFY_SOCKET");
        pb.environment().putAll(env);
        try {
            return new DaemonProcess(pb.start(), stateDir, log, Map.copyOf(env));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether a client without fallback gets a {@code hello} from this state dir's socket. */
    public boolean answers() {
        try (TaskIds ids = TaskIds.open(StateDir.of(stateDir), clientOptions())) {
            return ids.daemon().isPresent();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Client options that find this daemon: no fallback, and the daemon's extra environment
     * (e.g. XDG_RUNTIME_DIR, which decides where a long state dir's socket is).
     */
    public TaskIds.Options clientOptions() {
        Map<String, String> merged = new HashMap<>(System.getenv());
        merged.remove("TASKID_DIR");
        merged.putAll(env);
        return new TaskIds.Options(
                false, TaskIds.Options.DEFAULT.daemonTimeout(), Optional.empty(), Map.copyOf(merged));
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    public Path stateDir() {
        return stateDir;
    }

    /** What the daemon logged so far. */
    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "<no log: " + e + ">";
        }
    }

    /** VmRSS and VmHWM (peak) of process {@code pid}, in KiB. */
    public static long[] memoryKiB(long pid) throws IOException {
        long rss = 0;
        long hwm = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("\\D", ""));
            } else if (line.startsWith("VmHWM:")) {
                hwm = Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return new long[] {rss, hwm};
    }

    /** SIGTERM, then waits for the exit; returns the exit status. */
    public int stop() {
        process.destroy();
        return awaitExit();
    }

    /** SIGKILL, then waits for the exit. */
    public void kill() {
        process.destroyForcibly();
        awaitExit();
    }

    /** Waits for the process to end by itself (bounded); returns its exit status. */
    public int awaitExit() {
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor();
                throw new AssertionError("the daemon did not exit within " + STOP_TIMEOUT + ":\n" + log());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Kills the daemon if it still runs: no test leaves one behind. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
