package dev.taskid.backend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.testing.PgCluster;
import dev.taskid.testing.Processes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/** What the multi-host tests share: hosts' configs, CLI processes, reservers under load, and the checks on the database. */
final class Hosts {
    static final String PROJECT = "github.com/acme/app";

    private Hosts() {}

    /** A host's state dir {@code dir} whose committed config names the shared backend at {@code url}. */
    static Path host(Path dir, String url, long timeoutMs) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(
                dir.resolve("config.json"),
                "{\"backend\": {\"url\": \"" + url + "\", \"project\": \"" + PROJECT + "\", \"timeoutMs\": " + timeoutMs
                        + "}}");
        return dir;
    }

    /** {@code taskid --dir DIR ARGS} as a real CLI process. */
    static Processes.Result cli(Path dir, String... args) {
        return Processes.run(cliCommand(dir, args), dir, Map.of(), Duration.ofSeconds(120));
    }

    /** {@link #cli} with {@code stdin} as its input (e.g. {@code taskid mcp}'s JSON-RPC lines). */
    static Processes.Result cliWithInput(Path dir, String stdin, String... args) {
        return Processes.run(
                cliCommand(dir, args), dir, Map.of(), stdin.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(120));
    }

    private static List<String> cliCommand(Path dir, String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                Processes.java(),
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-cp",
                Processes.testClassPath(),
                "dev.taskid.cli.Main",
                "--dir",
                dir.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** {@code taskid backend init} from {@code dir} (a real CLI process); fails the test unless it created the schema. */
    static void initSchema(Path dir) {
        Processes.Result r = cli(dir, "backend", "init", "--json");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.stdout().contains("created schema version 1"), r.toString());
    }

    static String database(String url) {
        return url.substring(url.lastIndexOf('/') + 1);
    }

    /** The shared counter of {@code prefix} in the database of {@code url}; 0 without a row. */
    static long counter(PgCluster pg, String url, String prefix) throws Exception {
        try (Connection c = pg.connect(database(url));
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT n FROM taskid_counters WHERE project = '" + PROJECT
                        + "' AND prefix = '" + prefix + "'")) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /**
     * The numbers each committed {@code reserve} audit row of {@code prefix} covers ({@code from}
     * is the counter before, {@code to} the last number), checking that no two rows cover the same
     * number: a number in two rows would have been handed out twice.
     */
    static Set<Long> audited(PgCluster pg, String url, String prefix) throws Exception {
        Map<Long, String> owner = new TreeMap<>();
        try (Connection c = pg.connect(database(url));
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT line FROM taskid_audit ORDER BY id")) {
            Json json = new Json();
            while (rs.next()) {
                byte[] line = rs.getString(1).getBytes(StandardCharsets.UTF_8);
                Map<String, Object> entry = json.readObject(line, 0, line.length);
                if ("reserve".equals(entry.get("op")) && prefix.equals(entry.get("prefix"))) {
                    for (long n = (Long) entry.get("from") + 1; n <= (Long) entry.get("to"); n++) {
                        String before = owner.put(n, rs.getString(1));
                        assertEquals(null, before, "number " + n + " is in two committed reservations");
                    }
                }
            }
        }
        return owner.keySet();
    }

    /** What reservers got: every acknowledged number, and how many calls failed (outcome unknown to them). */
    record Outcome(List<Long> numbers, int failures, List<String> errors) {}

    /** Runs reservers against {@code targets} (each a TaskIds factory) until {@code stop}, or {@code calls} each. */
    static Outcome load(List<Supplier<TaskIds>> targets, int threadsEach, int calls, AtomicBoolean stop)
            throws Exception {
        ConcurrentLinkedQueue<Long> numbers = new ConcurrentLinkedQueue<>();
        AtomicInteger failures = new AtomicInteger();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newCachedThreadPool();
        List<Future<?>> running = new ArrayList<>();
        for (Supplier<TaskIds> target : targets) {
            for (int t = 0; t < threadsEach; t++) {
                running.add(pool.submit(() -> {
                    try (TaskIds ids = target.get()) {
                        for (int i = 0; i < calls && !stop.get(); i++) {
                            try {
                                numbers.addAll(
                                        ids.reserve("SEC", 1 + i % 3, "load").numbers());
                            } catch (TaskIdException e) {
                                if (e.code() == ErrorCode.DAEMON_UNAVAILABLE) {
                                    break; // this host's daemon was killed: its callers stop
                                }
                                failures.incrementAndGet(); // BACKEND_UNAVAILABLE: outcome unknown to the caller
                                errors.add(e.code() + ": " + e.getMessage());
                            }
                        }
                    }
                    return null;
                }));
            }
        }
        for (Future<?> f : running) {
            f.get(5, TimeUnit.MINUTES);
        }
        pool.shutdown();
        return new Outcome(new ArrayList<>(numbers), failures.get(), List.copyOf(errors));
    }

    static void assertNoDuplicates(List<Long> numbers) {
        Set<Long> unique = new TreeSet<>(numbers);
        assertEquals(numbers.size(), unique.size(), "an ID was handed out twice");
        System.out.println("acknowledged " + numbers.size() + " numbers, none twice");
    }
}
