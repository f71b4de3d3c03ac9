package dev.taskid.daemon;

import dev.taskid.client.TaskIds;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The daemon benchmark (run by {@code scripts/bench-daemon.sh}, not a test): a real daemon
 * started by the {@code ./taskid} launcher with its own JVM flags, driven through the client
 * library over the socket by 1, 8 and 64 connections (one thread each, one reservation at a
 * time) for a fixed time each; then {@code ./taskid reserve SEC} per call with and without
 * the daemon. Prints a Markdown table.
 *
 * <pre>DaemonBench LAUNCHER WORK_DIR SECONDS CONNECTIONS,... CLI_RUNS</pre>
 */
public final class DaemonBench {
    private static final long WARMUP_NANOS = TimeUnit.SECONDS.toNanos(2);

    private DaemonBench() {}

    /** One measured phase: client-side latencies and the daemon's own counters over it. */
    private record Phase(
            int connections,
            long reservations,
            double seconds,
            long[] sortedNanos,
            long persists,
            long batches,
            long requests,
            double persistP50Ms,
            long rssKb,
            long hwmKb,
            long daemonCpuNanos,
            long clientCpuNanos,
            long daemonSwitches) {
        String row() {
            return String.format(
                    Locale.ROOT,
                    "| %d | %,.0f | %.3f | %.3f | %.2f | %,.0f | %.1f | %.3f | %.0f | %.0f | %.2f | %.1f | %.1f |",
                    connections,
                    reservations / seconds,
                    ms(pct(0.50)),
                    ms(pct(0.99)),
                    ms(sortedNanos[sortedNanos.length - 1]),
                    persists / seconds,
                    (double) requests / batches,
                    persistP50Ms,
                    daemonCpuNanos / 1e3 / reservations,
                    clientCpuNanos / 1e3 / reservations,
                    (double) daemonSwitches / reservations,
                    rssKb / 1024.0,
                    hwmKb / 1024.0);
        }

        long pct(double p) {
            return sortedNanos[Math.min(sortedNanos.length - 1, (int) (sortedNanos.length * p))];
        }
    }

    public static void main(String[] args) throws Exception {
        Path launcher = Path.of(args[0]).toAbsolutePath();
        Path work = Path.of(args[1]).toAbsolutePath();
        long seconds = Long.parseLong(args[2]);
        int[] connections =
                Arrays.stream(args[3].split(",")).mapToInt(Integer::parseInt).toArray();
        int cliRuns = Integer.parseInt(args[4]);
        Path state = work.resolve("daemon").resolve(StateDir.NAME);
        Path lockState = work.resolve("filelock").resolve(StateDir.NAME);
        Files.createDirectories(state);
        Files.createDirectories(lockState);

        System.out.printf(
                Locale.ROOT,
                "durable replace (write, fsync, rename, fsync dir) p50 %.3f ms; fdatasync append p50 %.3f ms%n",
                ms(durableReplaceNanos(state)),
                ms(appendSyncNanos(state)));
        Process daemon = new ProcessBuilder(launcher.toString(), "daemon", "--dir", state.toString())
                .redirectErrorStream(true)
                .redirectOutput(work.resolve("daemon.log").toFile())
                .start();
        try {
            TaskIds.Options options = TaskIds.Options.DEFAULT.withFallback(false);
            long pid = awaitDaemon(state, options, daemon);
            System.out.println("daemon pid " + pid + " ("
                    + ProcessHandle.of(pid).flatMap(h -> h.info().commandLine()).orElse("?") + ")");
            System.out.println();
            System.out.println(
                    "| connections | reservations/s | p50 ms | p99 ms | max ms | persists/s | mean batch | persist p50 ms | daemon CPU µs/res | client CPU µs/res | daemon ctx switches/res | RSS MiB | HWM MiB |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            for (int n : connections) {
                System.out.println(phase(state, options, n, seconds, pid).row());
            }
            System.out.println();
            cli(launcher, state, lockState, cliRuns);
        } finally {
            daemon.destroy(); // SIGTERM: a clean stop
            if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
                daemon.destroyForcibly();
            }
        }
    }

    private static long awaitDaemon(Path state, TaskIds.Options options, Process daemon) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && daemon.isAlive()) {
            try (TaskIds ids = TaskIds.open(StateDir.of(state), options)) {
                var hello = ids.daemon();
                if (hello.isPresent()) {
                    return hello.get().pid();
                }
            } catch (RuntimeException notYet) {
                // not up yet
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw new IllegalStateException("the daemon did not come up; see its log");
    }

    private static Phase phase(Path state, TaskIds.Options options, int n, long seconds, long pid) throws Exception {
        run(state, options, n, WARMUP_NANOS); // JIT, connections, page cache
        Map<String, Object> before = stats(state, options);
        long daemonCpu = cpuNanos(pid);
        long switches = contextSwitches(pid);
        long clientCpu =
                ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
        long start = System.nanoTime();
        long[][] latencies = run(state, options, n, TimeUnit.SECONDS.toNanos(seconds));
        double elapsed = (System.nanoTime() - start) / 1e9;
        daemonCpu = cpuNanos(pid) - daemonCpu;
        switches = contextSwitches(pid) - switches;
        clientCpu =
                ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos() - clientCpu;
        Map<String, Object> after = stats(state, options);
        long[] all =
                Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
        long[] mem = dev.taskid.testing.DaemonProcess.memoryKiB(pid);
        return new Phase(
                n,
                all.length,
                elapsed,
                all,
                delta(before, after, "persists"),
                delta(before, after, "batches"),
                requests(after) - requests(before),
                number(after, "persistMillisP50"),
                mem[0],
                mem[1],
                daemonCpu,
                clientCpu,
                switches);
    }

    /** {@code n} threads, one connection each, reserving one ID at a time until the time is up. */
    static long[][] run(Path state, TaskIds.Options options, int n, long nanos) throws InterruptedException {
        long[][] latencies = new long[n][];
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        long[] end = new long[1];
        for (int t = 0; t < n; t++) {
            int index = t;
            Thread thread = new Thread(
                    () -> {
                        long[] mine = new long[1 << 14];
                        int count = 0;
                        try (TaskIds ids = TaskIds.open(StateDir.of(state), options)) {
                            if (ids.daemon().isEmpty()) {
                                throw new IllegalStateException("no daemon answers at " + state);
                            }
                            ready.countDown();
                            go.await();
                            long stop = end[0];
                            for (long t0 = System.nanoTime(); t0 - stop < 0; t0 = System.nanoTime()) {
                                ids.reserve("SEC", 1, null);
                                if (count == mine.length) {
                                    mine = Arrays.copyOf(mine, count * 2);
                                }
                                mine[count++] = System.nanoTime() - t0;
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        latencies[index] = Arrays.copyOf(mine, count);
                    },
                    "bench-" + t);
            threads.add(thread);
            thread.start();
        }
        ready.await();
        end[0] = System.nanoTime() + nanos;
        go.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        return latencies;
    }

    static Map<String, Object> stats(Path state, TaskIds.Options options) {
        try (TaskIds ids = TaskIds.open(StateDir.of(state), options)) {
            return ((Response.Stats) ids.call(new Request.Stats(null)).response()).values();
        }
    }

    static long delta(Map<String, Object> before, Map<String, Object> after, String key) {
        return (long) (number(after, key) - number(before, key));
    }

    private static double number(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    static long requests(Map<String, Object> m) {
        return ((Map<?, ?>) m.get("requests"))
                .values().stream().mapToLong(v -> ((Number) v).longValue()).sum();
    }

    /** User + system CPU time of {@code pid} so far (/proc/PID/stat, clock ticks of 10 ms). */
    private static long cpuNanos(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L; // utime, stime
    }

    /** Context switches (voluntary and not) of all threads of {@code pid} so far. */
    private static long contextSwitches(long pid) throws IOException {
        long n = 0;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.contains("ctxt_switches:")) {
                            n += Long.parseLong(line.replaceAll("\\D", ""));
                        }
                    }
                } catch (IOException threadEnded) {
                    // a thread that ended meanwhile
                }
            }
        }
        return n;
    }

    /** {@code ./taskid reserve SEC}, one JVM per call: through the daemon and in file-lock mode, interleaved. */
    private static void cli(Path launcher, Path daemonState, Path lockState, int runs) throws Exception {
        Map<String, long[]> times = new HashMap<>();
        times.put("daemon", new long[runs]);
        times.put("file lock", new long[runs]);
        for (int i = -3; i < runs; i++) { // three untimed rounds: archives, first-use state
            for (String mode : List.of("daemon", "file lock")) {
                Path dir = mode.equals("daemon") ? daemonState : lockState;
                ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "--dir", dir.toString(), "reserve", "SEC")
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.INHERIT);
                long t0 = System.nanoTime();
                int status = pb.start().waitFor();
                long took = System.nanoTime() - t0;
                if (status != 0) {
                    throw new IllegalStateException("./taskid reserve SEC (" + mode + ") exited " + status);
                }
                if (i >= 0) {
                    times.get(mode)[i] = took;
                }
            }
        }
        System.out.println("| ./taskid reserve SEC (one JVM per call) | median ms | p90 ms | runs |");
        System.out.println("|---|---|---|---|");
        for (String mode : List.of("daemon", "file lock")) {
            long[] t = times.get(mode).clone();
            Arrays.sort(t);
            System.out.printf(
                    Locale.ROOT, "| %s | %.1f | %.1f | %d |%n", mode, ms(t[runs / 2]), ms(t[(int) (runs * 0.9)]), runs);
        }
    }

    /** Median cost of the durable-replace steps of counters.json, in the state dir, for reference. */
    private static long durableReplaceNanos(Path dir) throws IOException {
        Path file = dir.resolve("fsync-probe");
        Path tmp = dir.resolve("fsync-probe.tmp");
        byte[] bytes = "{\"version\":1,\"counters\":{\"SEC\":12345}}\n".getBytes();
        long[] t = new long[200];
        for (int i = 0; i < t.length; i++) {
            long t0 = System.nanoTime();
            try (FileChannel ch = FileChannel.open(
                    tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(ByteBuffer.wrap(bytes));
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
            t[i] = System.nanoTime() - t0;
        }
        Files.delete(file);
        Arrays.sort(t);
        return t[t.length / 2];
    }

    /** Median cost of appending one line and fdatasync (what audit.log costs per batch). */
    private static long appendSyncNanos(Path dir) throws IOException {
        Path file = dir.resolve("append-probe");
        long[] t = new long[200];
        byte[] line = "{\"op\":\"reserve\",\"ids\":[\"SEC-1\"]}\n".getBytes();
        try (FileChannel ch = FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            for (int i = 0; i < t.length; i++) {
                long t0 = System.nanoTime();
                ch.write(ByteBuffer.wrap(line));
                ch.force(false);
                t[i] = System.nanoTime() - t0;
            }
        }
        Files.delete(file);
        Arrays.sort(t);
        return t[t.length / 2];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
