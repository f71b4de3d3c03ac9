package dev.taskid.backend.postgres;

import static dev.taskid.backend.postgres.Hosts.PROJECT;
import static dev.taskid.backend.postgres.Hosts.assertNoDuplicates;
import static dev.taskid.backend.postgres.Hosts.audited;
import static dev.taskid.backend.postgres.Hosts.cli;
import static dev.taskid.backend.postgres.Hosts.cliWithInput;
import static dev.taskid.backend.postgres.Hosts.counter;
import static dev.taskid.backend.postgres.Hosts.initSchema;
import static dev.taskid.backend.postgres.Hosts.load;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.PgCluster;
import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
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
        initSchema(host("init", url));
        return url;
    }

    /** A host's state dir whose committed config names the shared backend. */
    private Path host(String name, String url) throws Exception {
        return Hosts.host(
                tmp.resolve(name), url, 30_000); // generous: a shared 2-core machine under load connects slowly
    }

    private static TaskIds.Options direct() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove("TASKID_DIR");
        env.remove("TASKID_BACKEND");
        return new TaskIds.Options(true, Duration.ofSeconds(30), Optional.empty(), Map.copyOf(env));
    }

    /** Starts three daemons ("hosts") on {@code url} into {@code daemons}; a client factory for each. */
    private List<java.util.function.Supplier<TaskIds>> startHosts(String url, List<DaemonProcess> daemons)
            throws Exception {
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
            Hosts.Outcome o = load(targets, 3, 40, new AtomicBoolean());
            List<Long> numbers = new ArrayList<>(o.numbers());
            List<Processes.Result> cliResults = new ArrayList<>();
            for (Future<Processes.Result> f : cliRuns) {
                Processes.Result r = f.get(2, TimeUnit.MINUTES);
                cliResults.add(r);
                if (r.status() == 0) {
                    for (String n : r.stdout()
                            .replaceAll(".*\"numbers\":\\[([0-9,]*)].*", "$1")
                            .trim()
                            .split(",")) {
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
            long counter = counter(pg, url, "SEC");
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
            Future<Hosts.Outcome> running = loader.submit(() -> load(targets, 3, Integer.MAX_VALUE, stop));
            await().atMost(Duration.ofSeconds(60)).until(() -> counter(pg, url, "SEC") > 100);
            daemons.get(2).kill(); // kill -9 under load
            long before = counter(pg, url, "SEC");
            await().atMost(Duration.ofSeconds(60)).until(() -> counter(pg, url, "SEC") > before + 100);
            try (Connection c = pg.connect("postgres");
                    Statement s = c.createStatement()) {
                // the daemons' sessions, wherever they are (most often inside a batch's transaction)
                s.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'taskid-daemon%'");
            }
            long afterTerminate = counter(pg, url, "SEC");
            await().atMost(Duration.ofSeconds(60)).until(() -> counter(pg, url, "SEC") > afterTerminate + 100);
            pg.crash();
            pg.launch();
            long afterCrash = counter(pg, url, "SEC");
            await().atMost(Duration.ofSeconds(60)).until(() -> counter(pg, url, "SEC") > afterCrash + 100);
            stop.set(true);
            Hosts.Outcome o = running.get(2, TimeUnit.MINUTES);
            loader.shutdown();
            System.out.println("under faults: " + o.failures() + " calls failed with BACKEND_UNAVAILABLE");
            assertNoDuplicates(o.numbers());
            long counter = counter(pg, url, "SEC");
            assertTrue(new TreeSet<>(o.numbers()).last() <= counter, "an acknowledged ID is above the durable counter");
            // Nothing acknowledged was lost: every acknowledged number is in a committed audit line.
            Set<Long> audited = audited(pg, url, "SEC");
            List<Long> lost =
                    o.numbers().stream().filter(n -> !audited.contains(n)).toList();
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
        try (DaemonProcess a = DaemonProcess.start(host("a", url));
                DaemonProcess b = DaemonProcess.start(host("b", url))) {
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
            assertEquals(20 * 2, counter(pg, url, "SEC"), "each key reserved once");
        }
    }

    /** Reserves 2 x SEC with {@code key}, retrying a BACKEND_UNAVAILABLE (the other host's commit won). */
    private static List<Long> reserveWithKey(DaemonProcess d, String key) {
        try (TaskIds ids = TaskIds.open(StateDir.of(d.stateDir()), d.clientOptions())) {
            for (int attempt = 0; ; attempt++) {
                Response r = ids.call(new Request.Reserve(null, "SEC", 2, "k", null, key))
                        .response();
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
    void logAndStatsReadEveryHostsAuditRowsFromTheBackend() throws Exception {
        String url = database();
        Path direct = host("direct-a", url);
        try (DaemonProcess d = DaemonProcess.start(host("daemon-b", url))) {
            assertEquals(
                    0, cli(direct, "reserve", "SEC", "2", "--purpose", "first").status());
            try (TaskIds ids = TaskIds.open(StateDir.of(d.stateDir()), d.clientOptions())) {
                assertEquals(List.of(3L), ids.reserve("SEC", 1, "second").numbers());
            }
            assertEquals(0, cli(direct, "reserve", "UX", "--purpose", "third").status());
        }
        Path other = host("c", url); // a clone that never reserved: no local history at all
        Processes.Result who = cli(other, "log", "SEC-3", "--json");
        assertEquals(0, who.status(), who.toString());
        assertTrue(
                who.stdout().contains("\"ids\":[\"SEC-3\"]")
                        && who.stdout().contains("\"purpose\":\"second\"")
                        && who.stdout().contains("\"mode\":\"daemon\""),
                who.toString());
        Processes.Result sec = cli(other, "log", "SEC");
        assertEquals(0, sec.status(), sec.toString());
        assertEquals(2, sec.stdout().lines().count(), sec.toString());
        assertTrue(
                sec.stdout().contains("SEC-1 SEC-2")
                        && sec.stdout().contains("\"first\"")
                        && sec.stdout().contains("backend"),
                sec.toString());
        Processes.Result missing = cli(other, "log", "SEC-9");
        assertEquals(1, missing.status(), missing.toString());
        Processes.Result stats = cli(other, "stats", "--json");
        assertEquals(0, stats.status(), stats.toString());
        String s = stats.stdout();
        assertTrue(
                s.contains("\"mode\":\"backend\"")
                        && s.contains("\"lines\":3")
                        && s.contains("\"project\":\"" + PROJECT)
                        && s.contains("\"reservationsByMode\":{\"backend\":2,\"daemon\":1}")
                        && s.contains("\"idsByMode\":{\"backend\":3,\"daemon\":1}"),
                s);
        Processes.Result text = cli(other, "stats");
        assertTrue(
                text.stdout().contains("3 changes in the shared backend")
                        && text.stdout().contains("shared backend directly"),
                text.toString());
        assertFalse(Files.exists(other.resolve("audit.log")), "nothing local");
        // The agents' lookup too: MCP lookup_task_ids on that clone reads the shared rows.
        Processes.Result mcp = cliWithInput(
                other,
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
                        + "\"capabilities\":{},\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}\n"
                        + "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
                        + "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"lookup_task_ids\","
                        + "\"arguments\":{\"queries\":[\"SEC-3\"]}}}\n",
                "mcp");
        assertEquals(0, mcp.status(), mcp.toString());
        String answer = mcp.stdout()
                .lines()
                .filter(l -> l.contains("\"id\":2"))
                .findFirst()
                .orElseThrow();
        assertTrue(
                answer.contains("\"purpose\":\"second\"")
                        && answer.contains("\"backend\":\"postgresql://")
                        && answer.contains("\"matched\":1"),
                answer);
    }

    @Test
    void noFallbackWithABackendFailsAtOnceWithoutTouchingIt() throws Exception {
        String url = database();
        Path dir = host("nofallback", url);
        Processes.Result r = cli(dir, "--no-fallback", "reserve", "SEC", "--json");
        assertEquals(7, r.status(), r.toString());
        assertEquals("", r.stdout(), r.toString());
        // The daemon is the only way --no-fallback allows; the shared backend is named, untouched.
        assertTrue(
                r.stderr().contains("\"code\":\"DAEMON_UNAVAILABLE\"")
                        && r.stderr().contains("--no-fallback")
                        && r.stderr().contains("shared backend")
                        && r.stderr().contains("taskid daemon"),
                r.toString());
        assertEquals(0, counter(pg, url, "SEC"), "nothing reserved directly");
        assertFalse(Files.exists(dir.resolve("counters.json")), "never the local files");
        try (DaemonProcess d = DaemonProcess.start(dir)) {
            Processes.Result viaDaemon = cli(dir, "--no-fallback", "reserve", "SEC", "--verbose");
            assertEquals(0, viaDaemon.status(), viaDaemon.toString());
            assertTrue(viaDaemon.stdout().contains("\"mode\":\"daemon\""), viaDaemon.toString());
        }
        assertEquals(1, counter(pg, url, "SEC"));
    }

    @Test
    void wrappedPrefixesAndArchiveAreRefusedAndTheInboxChecksAgainstTheBackend() throws Exception {
        String url = database();
        Path repo = tmp.resolve("wrap-repo");
        Path state = repo.resolve(".taskid");
        Files.createDirectories(repo.resolve(".git"));
        Hosts.host(state, url, 30_000);
        String backend = Files.readString(state.resolve("config.json"));
        Files.writeString(
                state.resolve("config.json"),
                backend.substring(0, backend.lastIndexOf('}')) + ", \"prefixOptions\": {\"SEC\": {\"wrap\": 1000}}}");
        for (String[] call : List.of(new String[] {"reserve", "UX"}, new String[] {"archive", "SEC", "1"})) {
            Processes.Result r = cli(state, call);
            assertEquals(5, r.status(), r.toString());
            assertTrue(
                    r.stderr().contains("CONFIG_INVALID")
                            && r.stderr().contains("wrapped prefixes [SEC]")
                            && r.stderr().contains("shared PostgreSQL backend"),
                    r.toString());
        }
        DaemonProcess refused = DaemonProcess.launch(state, Map.of(), List.of());
        assertEquals(5, refused.awaitExit(), refused.log());
        assertTrue(refused.log().contains("wrapped prefixes [SEC]"), refused.log());
        assertEquals(0, counter(pg, url, "UX"), "nothing reserved");

        Files.writeString(state.resolve("config.json"), backend); // no wrap: archive has nothing to archive
        Processes.Result archive = cli(state, "archive", "SEC", "1");
        assertEquals(2, archive.status(), archive.toString());
        assertTrue(archive.stderr().contains("does not wrap"), archive.toString());

        try (DaemonProcess d = DaemonProcess.start(state)) { // the same through a daemon, and the inbox with one
            Processes.Result viaDaemon = cli(state, "archive", "SEC", "1");
            assertEquals(2, viaDaemon.status(), viaDaemon.toString());
            assertTrue(viaDaemon.stderr().contains("does not wrap"), viaDaemon.toString());
            inboxChecksAgainstTheBackend(repo, state);
        }
    }

    private static void inboxChecksAgainstTheBackend(Path repo, Path state) throws Exception {
        assertEquals(0, cli(state, "reserve", "SEC", "2").status());
        Path tasks = repo.resolve("tasks.json");
        Files.writeString(
                tasks,
                "{\"tasks\": [{\"id\": \"SEC-2\", \"title\": \"reserved on the backend\"},"
                        + " {\"id\": \"SEC-5\", \"title\": \"never reserved\"}]}");
        assertEquals(0, cli(state, "inbox", "submit", tasks.toString()).status());
        Processes.Result processed = cli(state, "inbox", "process");
        assertEquals(1, processed.status(), processed.toString()); // one task rejected
        assertTrue((processed.stdout() + processed.stderr()).contains("counter at SEC-2"), processed.toString());
        String table = Files.readString(repo.resolve("TASKS.md"));
        assertTrue(table.contains("| SEC-2 | reserved on the backend"), table);
        assertFalse(table.contains("SEC-5"), table);
        assertFalse(Files.exists(state.resolve("counters.json")), "never the local files");
    }

    @Test
    void unreachableBackendIsAClearErrorAndNeverLocalFiles() throws Exception {
        Path dir = tmp.resolve("nowhere");
        Files.createDirectories(dir);
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Files.writeString(
                dir.resolve("config.json"),
                "{\"backend\": {\"url\": \"postgresql://127.0.0.1:" + closed
                        + "/x\", \"project\": \"p\", \"timeoutMs\": 500}}");
        long start = System.nanoTime();
        Processes.Result r = cli(dir, "reserve", "SEC", "--json");
        assertEquals(7, r.status(), r.toString());
        assertTrue(r.stderr().contains("BACKEND_UNAVAILABLE") && r.stderr().contains("retry"), r.toString());
        assertEquals("", r.stdout().trim().isEmpty() ? "" : r.stdout().contains("\"ids\":[\"SEC") ? "ids" : "");
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30), "bounded wait");
        assertFalse(Files.exists(dir.resolve("counters.json")), "never the local files");
        Processes.Result log = cli(dir, "log", "--json");
        assertEquals(7, log.status(), log.toString());
        assertTrue(log.stderr().contains("BACKEND_UNAVAILABLE") && log.stderr().contains("audit rows"), log.toString());
        // A daemon that cannot reach its backend does not start.
        DaemonProcess d = DaemonProcess.launch(dir, Map.of(), List.of());
        assertEquals(7, d.awaitExit(), d.log());
        assertTrue(d.log().contains("BACKEND_UNAVAILABLE"), d.log());
    }

    @Test
    void refusesAServerThatDoesNotCommitSynchronouslyUnlessAccepted() throws Exception {
        String url = database();
        String name = url.substring(url.lastIndexOf('/') + 1);
        try (Connection c = pg.connect("postgres");
                Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE " + name + " SET synchronous_commit = off");
        }
        Path dir = host("async", url);
        Processes.Result r = cli(dir, "reserve", "SEC");
        assertEquals(5, r.status(), r.toString());
        assertTrue(
                r.stderr().contains("synchronous_commit=off") && r.stderr().contains("acceptAsyncCommit"),
                r.toString());
        DaemonProcess d = DaemonProcess.launch(dir, Map.of(), List.of());
        assertEquals(5, d.awaitExit(), d.log());
        Files.writeString(
                dir.resolve("config.json"),
                "{\"backend\": {\"url\": \"" + url + "\", \"project\": \"" + PROJECT
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
            results.add(
                    r.stdout().contains("created")
                            ? "created"
                            : r.stdout().contains("already") ? "already" : r.stdout());
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
        Processes.Result local = Processes.run(
                List.of(
                        Processes.java(),
                        "-cp",
                        Processes.testClassPath(),
                        "dev.taskid.cli.Main",
                        "--dir",
                        state.toString(),
                        "set",
                        "SEC",
                        "40"),
                repo,
                Map.of(),
                Duration.ofSeconds(60));
        assertEquals(0, local.status(), local.toString());
        Files.writeString(repo.resolve("TASKS.md"), "| DOC-77 | z |\n", java.nio.file.StandardOpenOption.APPEND);
        Files.writeString(
                state.resolve("config.json"),
                "{\"backend\": {\"url\": \"" + url + "\", \"project\": \"" + PROJECT + "\"}}");
        try (Connection c = pg.connect(url.substring(url.lastIndexOf('/') + 1));
                Statement s = c.createStatement()) {
            s.execute("INSERT INTO taskid_counters VALUES ('" + PROJECT + "', 'UX', 90)");
        }
        Processes.Result imported = cli(state, "backend", "import", "--json");
        assertEquals(0, imported.status(), imported.toString());
        assertEquals(40, counter(pg, url, "SEC"), "the local counter");
        assertEquals(77, counter(pg, url, "DOC"), "the highest ID in TASKS.md");
        assertEquals(90, counter(pg, url, "UX"), "import never lowers");
    }
}
