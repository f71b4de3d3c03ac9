package dev.taskid.daemon;

import dev.taskid.client.TaskIds;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The shared-backend benchmark's driver (run by {@code scripts/bench-pg.sh}, not a test): the
 * daemons of the given state dirs, already running on one PostgreSQL database, are driven at
 * the same time by CONNECTIONS connections each (DaemonBench's client loop: one thread per
 * connection, one reservation in flight), after a warm-up; around the measured window it reads
 * the server's own counters (pg_stat_database) and each daemon's batches. Prints one Markdown row.
 *
 * <pre>PgHostsBench JDBC_URL SECONDS CONNECTIONS STATE_DIR...</pre>
 */
public final class PgHostsBench {
    private static final long WARMUP_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long STATS_IDLE_FLUSH_MILLIS = 11_000;

    private PgHostsBench() {}

    /** What the server counted: commits and rows written (inserted + updated + deleted). */
    private record Server(long commits, long rows) {
        static Server read(String jdbc) throws Exception {
            try (Connection c = DriverManager.getConnection(jdbc);
                    Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT xact_commit, tup_inserted + tup_updated + tup_deleted"
                        + " FROM pg_stat_database WHERE datname = current_database()")) {
                    rs.next();
                    return new Server(rs.getLong(1), rs.getLong(2));
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String jdbc = args[0];
        long seconds = Long.parseLong(args[1]);
        int connections = Integer.parseInt(args[2]);
        List<Path> states = Arrays.stream(args, 3, args.length).map(Path::of).toList();
        TaskIds.Options options = TaskIds.Options.DEFAULT.withFallback(false);
        ExecutorService hosts = Executors.newFixedThreadPool(states.size());
        all(hosts, states, s -> DaemonBench.run(s, options, connections, WARMUP_NANOS)); // JIT, connections, caches
        List<Map<String, Object>> before =
                states.stream().map(s -> DaemonBench.stats(s, options)).toList();
        quiet();
        Server server0 = Server.read(jdbc);
        long start = System.nanoTime();
        List<long[][]> latencies =
                all(hosts, states, s -> DaemonBench.run(s, options, connections, TimeUnit.SECONDS.toNanos(seconds)));
        double elapsed = (System.nanoTime() - start) / 1e9;
        quiet();
        Server server1 = Server.read(jdbc);
        List<Map<String, Object>> after =
                states.stream().map(s -> DaemonBench.stats(s, options)).toList();
        hosts.shutdown();
        long[] all = latencies.stream()
                .flatMap(Arrays::stream)
                .flatMapToLong(Arrays::stream)
                .sorted()
                .toArray();
        long batches = 0;
        long requests = 0;
        for (int i = 0; i < states.size(); i++) {
            batches += DaemonBench.delta(before.get(i), after.get(i), "batches");
            requests += DaemonBench.requests(after.get(i)) - DaemonBench.requests(before.get(i));
        }
        System.out.printf(
                Locale.ROOT,
                "| taskid, %d daemon(s) x %d connections | %,.0f | %.1f | %.1f | %,.0f | %,.0f | %.1f |%n",
                states.size(),
                connections,
                all.length / elapsed,
                pct(all, 0.50) / 1e6,
                pct(all, 0.99) / 1e6,
                (server1.commits() - server0.commits()) / elapsed,
                (server1.rows() - server0.rows()) / elapsed,
                (double) requests / Math.max(1, batches));
    }

    /**
     * Waits until every session has flushed its statistics: a session that goes idle within a
     * second of its last flush reports the rest only after PostgreSQL's idle interval (10 s).
     */
    private static void quiet() throws InterruptedException {
        Thread.sleep(STATS_IDLE_FLUSH_MILLIS);
    }

    private interface Work<T> {
        T on(Path state) throws Exception;
    }

    /** {@code work} on every state dir at once; their results in order. */
    private static <T> List<T> all(ExecutorService pool, List<Path> states, Work<T> work) throws Exception {
        List<Future<T>> running = new ArrayList<>();
        for (Path s : states) {
            running.add(pool.submit(() -> work.on(s)));
        }
        List<T> out = new ArrayList<>();
        for (Future<T> f : running) {
            out.add(f.get(10, TimeUnit.MINUTES));
        }
        return out;
    }

    private static long pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * p))];
    }
}
