package dev.taskid.backend.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.PgCluster;
import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several "hosts" (daemons with separate state dirs, real JVMs) and direct callers on ONE real
 * PostgreSQL: no ID twice, under load and under faults (kill -9 of a daemon, the daemons'
 * sessions terminated mid-transaction, the server crashed and restarted).
 */
class MultiHostTest {
    private static final String PROJECT = "github.com/acme/app";
    private static PgCluster pg;
    private static final AtomicInteger databases = new AtomicInteger();

    @TempDir
    Path tmp;

    @BeforeAll
    static void startPostgres() {
        pg = PgCluster.start();
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    /** A fresh database with the schema, as {@code taskid backend init} (a real CLI process) makes it. */
    private String database() throws Exception {
        String url = pg.createDatabase("t" + databases.incrementAndGet());
        Path host = host("init", url);
        Processes.Result r = cli(host, "backend", "init", "--json");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.stdout().contains("created schema version 1"), r.toString());
        return url;
    }

    /** A host's state dir whose committed config names the shared backend. */
    private Path host(String name, String url) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{\"backend\": {\"url\": \"" + url + "\", \"project\": \"" + PROJECT
                + "\", \"timeoutMs\": 30000}}"); // generous: a shared 2-core machine under load connects slowly
        return dir;
    }

    private static Processes.Result cli(Path dir, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Processes.java(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
                Processes.testClassPath(), "dev.taskid.cli.Main", "--dir", dir.toString()));
        cmd.addAll(List.of(args));
        return Processes.run(cmd, dir, Map.of(), Duration.ofSeconds(120));
    }

    private static TaskIds.Options direct() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove("TASKID_DIR");
        env.remove("TASKID_BACKEND");
        return new TaskIds.Options(true, Duration.ofSeconds(30), Optional.empty(), Map.copyOf(env));
    }

    private static long counter(String url, String prefix) throws Exception {
        try (Connection c = pg.connect(url.substring(url.lastIndexOf('/') + 1)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT n FROM taskid_counters WHERE project = '" + PROJECT + "' AND prefix = '"
                     + prefix + "'")) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /** What reservers got: every acknowledged number, and how many calls failed (outcome unknown to them). */
    private record Outcome(List<Long> numbers, int failures, List<String> errors) {
    }

    /** Runs reservers against {@code targets} (each a TaskIds factory) until {@code stop}, or {@code calls} each. */
    private static Outcome load(List<java.util.function.Supplier<TaskIds>> targets, int threadsEach, int calls,
                                AtomicBoolean stop) throws Exception {
        ConcurrentLinkedQueue<Long> numbers = new ConcurrentLinkedQueue<>();
        AtomicInteger failures = new AtomicInteger();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newCachedThreadPool();
        List<Future<?>> running = new ArrayList<>();
        for (java.util.function.Supplier<TaskIds> target : targets) {
            for (int t = 0; t < threadsEach; t++) {
                running.add(pool.submit(() -> {
                    try (TaskIds ids = target.get()) {
                        for (int i = 0; i < calls && !stop.get(); i++) {
                            try {
                                numbers.addAll(ids.reserve("SEC", 1 + i % 3, "load").numbers());
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

    private static void assertNoDuplicates(List<Long> numbers) {
        Set<Long> unique = new TreeSet<>(numbers);
        assertEquals(numbers.size(), unique.size(), "an ID was handed out twice");
        System.out.println("acknowledged " + numbers.size() + " numbers, none twice");
    }

    /** Starts three daemons ("hosts") on {@code url} into {@code daemons}; a client factory for each. */
    private List<java.util.function.Supplier<TaskIds>> startHosts(String url, List<DaemonProcess> daemons) throws Exception {
        for (int h = 0; h < 3; h++) {
            daemons.add(DaemonProcess.start(host("host" + h, url)));
        }
        List<java.util.function.Supplier<TaskIds>> targets = new ArrayList<>();
        for (DaemonProcess d : daemons) {
            targets.add(() -> TaskIds.open(StateDir.of(d.stateDir()), d.clientOptions()));
        }
        return targets;
    }

    @Test
    void threeHostsAndDirectCallersNeverShareAnId() throws Exception {
        String url = database();
        List<DaemonProcess> daemons = new ArrayList<>();
        try {
            List<java.util.function.Supplier<TaskIds>> targets = startHosts(url, daemons);
            Path direct = host("direct", url); // no daemon here: each call is its own transaction
            targets.add(() -> TaskIds.open(StateDir.of(direct), direct()));
            // Real CLI processes at the same time, without a daemon.
            ExecutorService clis = Executors.newFixedThreadPool(2);
            List<Future<Processes.Result>> cliRuns = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Path dir = host("cli" + i, url);
                cliRuns.add(clis.submit(() -> cli(dir, "reserve", "SEC", "2", "--verbose")));
            }
            Outcome o = load(targets, 3, 40, new AtomicBoolean());
            List<Long> numbers = new ArrayList<>(o.numbers());
            List<Processes.Result> cliResults = new ArrayList<>();
            for (Future<Processes.Result> f : cliRuns) {
                Processes.Result r = f.get(2, TimeUnit.MINUTES);
                cliResults.add(r);
                if (r.status() == 0) {
                    for (String n : r.stdout().replaceAll(".*\"numbers\":\\[([0-9,]*)].*", "$1").trim().split(",")) {
                        numbers.add(Long.parseLong(n));
                    }
                }
            }
            clis.shutdown();
            assertNoDuplicates(numbers);
            for (Processes.Result r : cliResults) {
                assertEquals(0, r.status(), r.toString());
                assertTrue(r.stdout().contains("\"mode\":\"backend\""), r.toString());
            }
            assertEquals(0, o.failures(), o.errors().toString());
            long counter = counter(url, "SEC");
            assertEquals(numbers.size(), counter, "IDs are dense: nothing failed, so nothing is skipped");
            assertEquals(new TreeSet<>(numbers).last(), counter);
            for (DaemonProcess d : daemons) {
                assertEquals(0, d.stop(), d.log());
            }
            assertFalse(Files.exists(direct.resolve("counters.json")), "never the local files");
            assertFalse(Files.exists(daemons.get(0).stateDir().resolve("counters.json")), "never the local files");
        } finally {
            daemons.forEach(DaemonProcess::close);
        }
    }

    @Test
    void faultsUnderLoadLoseNothingAcknowledgedAndHandOutNothingTwice() throws Exception {
        String url = database();
        List<DaemonProcess> daemons = new ArrayList<>();
        try {
            List<java.util.function.Supplier<TaskIds>> targets = startHosts(url, daemons);
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService loader = Executors.newSingleThreadExecutor();
            Future<Outcome> running = loader.submit(() -> load(targets, 3, Integer.MAX_VALUE, stop));
            await().atMost(Duration.ofSeconds(60)).until(() -> counter(url, "SEC") > 100);
            daemons.get(2).kill(); // kill -9 under load
            long before = counter(url, "SEC");
            await().atMost(Duration.ofSeconds(60)).until(() -> counter(url, "SEC") > before + 100);
            try (Connection c = pg.connect("postgres"); Statement s = c.createStatement()) {
                // the daemons' sessions, wherever they are (most often inside a batch's transaction)
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'taskid-daemon%'");
            }
            long afterTerminate = counter(url, "SEC");
            await().atMost(Duration.ofSeconds(60)).until(() -> counter(url, "SEC") > afterTerminate + 100);
            pg.crash();
            pg.launch();
            long afterCrash = counter(url, "SEC");
            await().atMost(Duration.ofSeconds(60)).until(() -> counter(url, "SEC") > afterCrash + 100);
            stop.set(true);
            Outcome o = running.get(2, TimeUnit.MINUTES);
            loader.shutdown();
            System.out.println("under faults: " + o.failures() + " calls failed with BACKEND_UNAVAILABLE");
            assertNoDuplicates(o.numbers());
            long counter = counter(url, "SEC");
            assertTrue(new TreeSet<>(o.numbers()).last() <= counter, "an acknowledged ID is above the durable counter");
            // Nothing acknowledged was lost: every acknowledged number is in a committed audit line.
            Set<Long> audited = new TreeSet<>();
            try (Connection c = pg.connect(url.substring(url.lastIndexOf('/') + 1)); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT line FROM taskid_audit")) {
                dev.taskid.json.Json json = new dev.taskid.json.Json();
                while (rs.next()) {
                    byte[] line = rs.getString(1).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    Map<String, Object> entry = json.readObject(line, 0, line.length);
                    if ("reserve".equals(entry.get("op"))) { // from: the counter before, to: the last number
                        for (long n = (Long) entry.get("from") + 1; n <= (Long) entry.get("to"); n++) {
                            audited.add(n);
                        }
                    }
                }
            }
            List<Long> lost = o.numbers().stream().filter(n -> !audited.contains(n)).toList();
            assertEquals(List.of(), lost, "acknowledged but not durable");
            // The survivors serve again, after the crash, without a restart of their own.
            for (DaemonProcess d : daemons.subList(0, 2)) {
                try (TaskIds ids = TaskIds.open(StateDir.of(d.stateDir()), d.clientOptions())) {
                    long first = ids.reserve("SEC", 1, "after").numbers().get(0);
                    assertTrue(first > counter, first + " <= " + counter);
                }
            }
        } finally {
            daemons.forEach(DaemonProcess::close);
        }
    }

    @Test
    void theSameKeySentToTwoDaemonsReturnsTheSameIds() throws Exception {
        String url = database();
        try (DaemonProcess a = DaemonProcess.start(host("a", url)); DaemonProcess b = DaemonProcess.start(host("b", url))) {
            for (int round = 0; round < 20; round++) {
                String key = "key-" + round;
                ExecutorService two = Executors.newFixedThreadPool(2);
                List<Future<List<Long>>> got = new ArrayList<>();
                for (DaemonProcess d : List.of(a, b)) {
                    got.add(two.submit(() -> reserveWithKey(d, key)));
                }
                assertEquals(got.get(0).get(1, TimeUnit.MINUTES), got.get(1).get(1, TimeUnit.MINUTES), key);
                two.shutdown();
            }
            assertEquals(20 * 2, counter(url, "SEC"), "each key reserved once");
        }
    }

    /** Reserves 2 x SEC with {@code key}, retrying a BACKEND_UNAVAILABLE (the other host's commit won). */
    private static List<Long> reserveWithKey(DaemonProcess d, String key) {
        try (TaskIds ids = TaskIds.open(StateDir.of(d.stateDir()), d.clientOptions())) {
            for (int attempt = 0; ; attempt++) {
                Response r = ids.call(new Request.Reserve(null, "SEC", 2, "k", null, key)).response();
                if (r instanceof Response.Reserved ok) {
                    return ok.numbers();
                }
                Response.Failure f = (Response.Failure) r;
                assertEquals(ErrorCode.BACKEND_UNAVAILABLE, f.code(), f.message());
                assertTrue(attempt < 5, f.message());
            }
        }
    }

    @Test
    void unreachableBackendIsAClearErrorAndNeverLocalFiles() throws Exception {
        Path dir = tmp.resolve("nowhere");
        Files.createDirectories(dir);
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Files.writeString(dir.resolve("config.json"), "{\"backend\": {\"url\": \"postgresql://127.0.0.1:" + closed
                + "/x\", \"project\": \"p\", \"timeoutMs\": 500}}");
        long start = System.nanoTime();
        Processes.Result r = cli(dir, "reserve", "SEC", "--json");
        assertEquals(7, r.status(), r.toString());
        assertTrue(r.stderr().contains("BACKEND_UNAVAILABLE") && r.stderr().contains("retry"), r.toString());
        assertEquals("", r.stdout().trim().isEmpty() ? "" : r.stdout().contains("\"ids\":[\"SEC") ? "ids" : "");
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30), "bounded wait");
        assertFalse(Files.exists(dir.resolve("counters.json")), "never the local files");
        // A daemon that cannot reach its backend does not start.
        DaemonProcess d = DaemonProcess.launch(dir, Map.of(), List.of());
        assertEquals(7, d.awaitExit(), d.log());
        assertTrue(d.log().contains("BACKEND_UNAVAILABLE"), d.log());
    }

    @Test
    void refusesAServerThatDoesNotCommitSynchronouslyUnlessAccepted() throws Exception {
        String url = database();
        String name = url.substring(url.lastIndexOf('/') + 1);
        try (Connection c = pg.connect("postgres"); Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE " + name + " SET synchronous_commit = off");
        }
        Path dir = host("async", url);
        Processes.Result r = cli(dir, "reserve", "SEC");
        assertEquals(5, r.status(), r.toString());
        assertTrue(r.stderr().contains("synchronous_commit=off") && r.stderr().contains("acceptAsyncCommit"), r.toString());
        DaemonProcess d = DaemonProcess.launch(dir, Map.of(), List.of());
        assertEquals(5, d.awaitExit(), d.log());
        Files.writeString(dir.resolve("config.json"), "{\"backend\": {\"url\": \"" + url + "\", \"project\": \"" + PROJECT
                + "\", \"acceptAsyncCommit\": true}}");
        Processes.Result accepted = cli(dir, "reserve", "SEC");
        assertEquals(0, accepted.status(), accepted.toString());
    }

    @Test
    void initIsIdempotentFromTwoHostsAtOnceAndImportNeverLowers() throws Exception {
        String url = pg.createDatabase("t" + databases.incrementAndGet());
        Path a = host("ia", url);
        Path b = host("ib", url);
        ExecutorService two = Executors.newFixedThreadPool(2);
        Future<Processes.Result> ra = two.submit(() -> cli(a, "backend", "init", "--json"));
        Future<Processes.Result> rb = two.submit(() -> cli(b, "backend", "init", "--json"));
        List<String> results = new ArrayList<>();
        for (Future<Processes.Result> f : List.of(ra, rb)) {
            Processes.Result r = f.get(2, TimeUnit.MINUTES);
            assertEquals(0, r.status(), r.toString());
            results.add(r.stdout().contains("created") ? "created" : r.stdout().contains("already") ? "already" : r.stdout());
        }
        two.shutdown();
        Collections.sort(results);
        assertEquals(List.of("already", "created"), results);
        // Local state of a clone that used taskid before: counters.json says SEC 40; TASKS.md gains DOC-77 later.
        Path repo = tmp.resolve("repo");
        Path state = repo.resolve(".taskid");
        Files.createDirectories(repo.resolve(".git"));
        Files.createDirectories(state);
        Files.writeString(repo.resolve("TASKS.md"), "| SEC-35 | x |\n| UX-7 | y |\n");
        Processes.Result local = Processes.run(List.of(Processes.java(), "-cp", Processes.testClassPath(),
                "dev.taskid.cli.Main", "--dir", state.toString(), "set", "SEC", "40"), repo, Map.of(), Duration.ofSeconds(60));
        assertEquals(0, local.status(), local.toString());
        Files.writeString(repo.resolve("TASKS.md"), "| DOC-77 | z |\n", java.nio.file.StandardOpenOption.APPEND);
        Files.writeString(state.resolve("config.json"), "{\"backend\": {\"url\": \"" + url + "\", \"project\": \"" + PROJECT
                + "\"}}");
        try (Connection c = pg.connect(url.substring(url.lastIndexOf('/') + 1)); Statement s = c.createStatement()) {
            s.execute("INSERT INTO taskid_counters VALUES ('" + PROJECT + "', 'UX', 90)");
        }
        Processes.Result imported = cli(state, "backend", "import", "--json");
        assertEquals(0, imported.status(), imported.toString());
        assertEquals(40, counter(url, "SEC"), "the local counter");
        assertEquals(77, counter(url, "DOC"), "the highest ID in TASKS.md");
        assertEquals(90, counter(url, "UX"), "import never lowers");
    }
}
