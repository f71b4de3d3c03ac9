package dev.taskid.daemon;

import ch.qos.logback.classic.LoggerContext;
import dev.taskid.options.Option;
import dev.taskid.options.OptionException;
import dev.taskid.options.OptionParser;
import dev.taskid.options.ParsedArgs;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.server.Fatal;
import dev.taskid.server.SocketServer;
import dev.taskid.state.StateDir;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code taskid daemon [--dir PATH] [--lock-timeout MS]}: runs in the foreground until SIGTERM
 * or SIGINT, then shuts down cleanly and exits 0; exits non-zero when it cannot go on (its
 * state directory removed or replaced: STATE_MOVED's status). Tuning (system properties):
 * taskid.maxConnections (1024), taskid.idleSeconds (300), taskid.maxInFlight (8192),
 * taskid.stopWaitSeconds (30: how long a stop waits for the state thread before halting),
 * taskid.stateWatchMillis (1000: how often it checks that its state directory is still there).
 */
public final class DaemonMain {
    static {
        LogProvider.select(); // before the logger below: slf4j picks its provider once, at the first one
    }

    private static final Logger log = LoggerFactory.getLogger(DaemonMain.class);

    private DaemonMain() {}

    private static final Option DIR = Option.valued(
            "--dir",
            "PATH",
            "state directory (default: .git/taskid in a git repository, else .taskid; env TASKID_DIR)");
    private static final Option LOCK_TIMEOUT = Option.valued(
            "--lock-timeout",
            "MS",
            "how long to wait for the state lock at start (default 30000 or config lockTimeoutMs)");
    private static final Option HELP = Option.flag("--help", "print this help").withAlias("-h");
    /** The daemon's options, in the model the CLI's commands use (dev.taskid.options). */
    static final List<Option> OPTIONS = List.of(DIR, LOCK_TIMEOUT, HELP);

    public static void main(String[] args) throws InterruptedException {
        ParsedArgs parsed;
        try {
            parsed = OptionParser.parse(Arrays.asList(args), OPTIONS);
        } catch (OptionException e) {
            usageError(e.getMessage());
            return;
        }
        if (parsed.flag(HELP.name())) {
            System.out.print(help());
            return;
        }
        if (!parsed.positionals().isEmpty()) {
            usageError("unknown argument " + parsed.positionals().get(0));
        }
        String dirOption = parsed.value(DIR.name()) != null ? parsed.value(DIR.name()) : System.getenv("TASKID_DIR");
        Optional<Duration> lockTimeout = Optional.empty();
        String value = parsed.value(LOCK_TIMEOUT.name());
        if (value != null) {
            try {
                long ms = Long.parseLong(value);
                if (ms < 0) {
                    throw new NumberFormatException();
                }
                lockTimeout = Optional.of(Duration.ofMillis(ms));
            } catch (NumberFormatException e) {
                usageError("--lock-timeout takes milliseconds (a whole number, 0 or more), not " + value);
            }
        }
        // A thread the daemon needs that dies of an Error must not leave a process holding the lock.
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            if (e instanceof Error) {
                Fatal.halt(thread.getName(), e);
            }
            log.error("uncaught on {}", thread.getName(), e);
        });
        StateDir dir = StateDir.locate(Path.of("").toAbsolutePath(), dirOption);
        SocketServer.Settings settings = new SocketServer.Settings(
                Integer.getInteger("taskid.maxConnections", 1024),
                Duration.ofSeconds(Long.getLong("taskid.idleSeconds", 300)),
                Integer.getInteger("taskid.maxInFlight", 8192));
        Daemon daemon;
        try {
            daemon = Daemon.start(
                    dir,
                    settings,
                    System.getenv(),
                    new Daemon.Options(
                            lockTimeout,
                            Duration.ofSeconds(Long.getLong("taskid.stopWaitSeconds", 30)),
                            Duration.ofMillis(Long.getLong("taskid.stateWatchMillis", 1000))),
                    new Daemon.Ending(
                            status -> new Thread(() -> System.exit(status), "taskid-exit").start(), status -> {
                                stopLogging();
                                Runtime.getRuntime().halt(status);
                            }));
        } catch (TaskIdException e) {
            log.error("cannot start: {}: {}", e.code(), e.getMessage());
            stopLogging();
            System.exit(e.code().exitStatus());
            return;
        } catch (RuntimeException e) {
            log.error("cannot start", e);
            stopLogging();
            System.exit(6);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            daemon.close();
                            stopLogging();
                            stopped.countDown();
                            // A clean stop on SIGTERM is a success, not "killed by signal" (143); a daemon that
                            // stopped because it could not go on says so.
                            Runtime.getRuntime().halt(daemon.exitStatus());
                        },
                        "taskid-shutdown"));
        stopped.await();
    }

    /** {@code usage: taskid daemon [--dir PATH] [--lock-timeout MS]}, from the options. */
    static String usage() {
        StringBuilder b = new StringBuilder("usage: taskid daemon");
        OPTIONS.stream()
                .filter(o -> !o.equals(HELP))
                .forEach(o -> b.append(" [").append(o.usage()).append(']'));
        return b.toString();
    }

    static String help() {
        StringBuilder b =
                new StringBuilder(usage()).append("   (runs in the foreground; logs to stderr)\n\noptions:\n");
        for (Option o : OPTIONS) {
            b.append(String.format("  %-18s %s%n", o.usage(), o.help()));
        }
        return b.toString();
    }

    private static void usageError(String message) {
        System.err.println("taskid daemon: " + message + " (" + usage() + ")");
        System.exit(2);
    }

    private static void stopLogging() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }
}
