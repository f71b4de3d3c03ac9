package dev.taskid.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.state.StateDir;
import dev.taskid.state.Users;
import dev.taskid.testing.Processes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated claude scripts run by node, in both modes: against a daemon socket (a stand-in
 * speaking the real codec and rules; the real daemon's run is in daemon/src/test) without any
 * JVM, and through the taskid CLI when no daemon answers. Output and error texts byte-for-byte
 * as seed 000's (compared with an original-style script, bench/seed-style/).
 */
class ShimNodeTest {
    /** Seed 000's output: exactly this, one line. */
    static final Pattern SEED_OUTPUT = Pattern.compile(
            "\\{\"ids\":\\[(\"[A-Z][A-Z0-9]*-\\d+\"(,\"[A-Z][A-Z0-9]*-\\d+\")*)\\],\"reservedAt\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\"\\}\n");

    static final String INVALID_FOO =
            "❌ Error: Invalid prefix \"FOO\". Valid: SEC, PERF, UX, TEST, DEV, ARCH, FIN, DRY, DOC, DS, MKT,"
                    + " CNT, INFRA, OPS\n";

    private static String node;

    @TempDir
    Path tmp;

    private Path repo;
    private Path cli;
    private Path noJvm;

    @BeforeAll
    static void needNode() {
        node = Processes.onPath("node").orElse(null);
        Assumptions.assumeTrue(node != null, "skipped: node is not on PATH");
    }

    @BeforeEach
    void setUp() throws IOException {
        repo = tmp.resolve("repo");
        Files.createDirectories(repo.resolve(".git"));
        Files.writeString(repo.resolve("TASKS.md"), "| SEC-19 | a |\n| UX-66 | b |\n");
        cli = Processes.taskidScript(tmp.resolve("bin"));
        // Stands in for taskid where the daemon must answer: running it is a test failure.
        noJvm = tmp.resolve("no-jvm");
        Files.writeString(noJvm, "#!/bin/sh\necho \"taskid was run: $*\" >&2\nexit 99\n");
        Files.setPosixFilePermissions(noJvm, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    static void install(Path checkout) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (TaskIds ids = TaskIds.open(StateDir.locate(checkout, null), TaskIds.Options.DEFAULT)) {
            int status = Shims.command(
                    List.of("install", "claude"),
                    null,
                    ids,
                    checkout,
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(0, status, err::toString);
        }
    }

    private Processes.Result node(Path checkout, Path taskidBin, String script, String... args) {
        List<String> cmd = new ArrayList<>(
                List.of(node, checkout.resolve(".claude/scripts/" + script).toString()));
        cmd.addAll(List.of(args));
        return Processes.run(cmd, checkout, Map.of("TASKID_BIN", taskidBin.toString()), Duration.ofSeconds(60));
    }

    private Processes.Result reserve(Path taskidBin, String... args) {
        return node(repo, taskidBin, "reserve-task-ids.js", args);
    }

    static List<String> ids(Processes.Result r) {
        Matcher m = SEED_OUTPUT.matcher(r.stdout());
        assertTrue(m.matches(), () -> "not seed 000's output: " + r);
        List<String> out = new ArrayList<>();
        for (String quoted : m.group(1).split(",")) {
            out.add(quoted.substring(1, quoted.length() - 1));
        }
        return out;
    }

    @Test
    void withoutADaemonTheScriptsRunTheTaskidCommand() {
        install(repo);
        Processes.Result r = reserve(cli, "SEC", "3");
        assertEquals(0, r.status(), r::toString);
        assertEquals(List.of("SEC-20", "SEC-21", "SEC-22"), ids(r));
        assertEquals(List.of("SEC-23"), ids(reserve(cli, "SEC")));

        Processes.Result bad = reserve(cli, "FOO");
        assertEquals(1, bad.status());
        assertEquals("", bad.stdout());
        assertEquals(INVALID_FOO, bad.stderr());

        Processes.Result count = reserve(cli, "SEC", "0");
        assertEquals(1, count.status());
        assertEquals("❌ Error: count must be an integer from 1 to 1000, got 0 (INVALID_COUNT)\n", count.stderr());

        Processes.Result init = node(repo, cli, "init-task-counters.js");
        assertEquals(0, init.status(), init::toString);
        assertEquals("✅ Initialized counters from 2 tasks:\n   SEC      → 23\n   UX       → 66\n", init.stdout());
    }

    @Test
    void withADaemonTheScriptsSpeakToItsSocketAndRunNoJvm() throws IOException {
        install(repo);
        Path socket = repo.resolve(".taskid/daemon.sock");
        try (FakeDaemon daemon = new FakeDaemon(socket, Map.of("SEC", 100L, "UX", 66L), false)) {
            Processes.Result r = reserve(noJvm, "SEC", "2");
            assertEquals(0, r.status(), r::toString);
            assertEquals(List.of("SEC-101", "SEC-102"), ids(r));
            assertEquals("", r.stderr());
            assertEquals(2, daemon.received.size());
            assertTrue(daemon.received.get(0).contains("\"op\":\"hello\""), "handshake first");
            assertTrue(daemon.received.get(1).contains("\"op\":\"reserve\""));
            assertTrue(daemon.received.get(1).contains("\"agent\":\"claude-shim\""));

            Processes.Result bad = reserve(noJvm, "FOO");
            assertEquals(1, bad.status());
            assertEquals(INVALID_FOO, bad.stderr(), "the same text as without a daemon");

            Files.writeString(repo.resolve("TASKS.md"), "| SEC-150 | newer |\n| PERF-3 | c |\n");
            Processes.Result init = node(repo, noJvm, "init-task-counters.js");
            assertEquals(0, init.status(), init::toString);
            assertEquals("✅ Initialized counters from 2 tasks:\n   SEC      → 150\n   PERF     → 3\n", init.stdout());
            assertEquals(150, daemon.counter("SEC"));
        }
    }

    @Test
    void aDaemonThatHangsUpIsRetriedThroughTheTaskidCommand() throws IOException {
        install(repo);
        try (FakeDaemon daemon = new FakeDaemon(repo.resolve(".taskid/daemon.sock"), Map.of(), true)) {
            Processes.Result r = reserve(cli, "UX");
            assertEquals(0, r.status(), r::toString);
            assertEquals(List.of("UX-67"), ids(r), "from the state file, via the CLI's fallback");
            assertEquals("", r.stderr());
            assertTrue(
                    daemon.received.stream().anyMatch(l -> l.contains("\"op\":\"reserve\"")),
                    "the daemon got it first");
        }
    }

    @Test
    void outputAndErrorsAreByteCompatibleWithTheOriginalScript() throws IOException {
        Path seedRepo = tmp.resolve("seed-repo");
        Files.createDirectories(seedRepo.resolve(".claude/scripts"));
        Path original = Path.of(System.getProperty("basedir", ""))
                .toAbsolutePath()
                .resolve("../bench/seed-style/reserve-task-ids.js")
                .normalize();
        Files.copy(original, seedRepo.resolve(".claude/scripts/reserve-task-ids.js"));
        Files.writeString(seedRepo.resolve(".claude/.task-id-counters.json"), "{\"counters\":{\"SEC\":19,\"UX\":66}}");
        install(repo);

        for (String[] args : new String[][] {{"SEC", "3"}, {"UX"}, {"FOO"}, {}}) {
            Processes.Result seed = node(seedRepo, noJvm, "reserve-task-ids.js", args);
            Processes.Result shim = reserve(cli, args);
            assertEquals(seed.status(), shim.status(), () -> seed + "\n" + shim);
            assertEquals(maskTime(seed.stdout()), maskTime(shim.stdout()), "stdout");
            assertEquals(seed.stderr(), shim.stderr(), "stderr");
        }
    }

    private static String maskTime(String s) {
        return s.replaceAll("\"reservedAt\":\"[^\"]+\"", "\"reservedAt\":\"T\"");
    }

    @Test
    void concurrentCallersGetDistinctIds() {
        install(repo);
        List<CompletableFuture<Processes.Result>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> reserve(cli, "DEV", "3"), TestExecutors.POOL));
        }
        Set<String> all = new HashSet<>();
        for (CompletableFuture<Processes.Result> c : calls) {
            Processes.Result r = c.join();
            assertEquals(0, r.status(), r::toString);
            all.addAll(ids(r));
        }
        assertEquals(24, all.size(), "no duplicates");
        for (int n = 1; n <= 24; n++) {
            assertTrue(all.contains("DEV-" + n), "no gap: DEV-" + n);
        }
    }

    @Test
    void inALinkedWorktreeTheScriptsUseTheMainWorktreesState() throws IOException {
        Assumptions.assumeTrue(Processes.onPath("git").isPresent(), "skipped: git is not on PATH");
        Path main = tmp.resolve("main");
        Files.createDirectories(main);
        git(main, "init", "-q");
        git(
                main,
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.org",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "start");
        git(main, "worktree", "add", "-q", tmp.resolve("wt").toString());
        Path wt = tmp.resolve("wt");
        install(wt);
        assertTrue(Files.exists(wt.resolve(Shims.RESERVE_SCRIPT)), "the scripts go into the worktree's checkout");
        Path socket = StateDir.locate(wt, null).socket(Map.of(), Users.currentUid());
        assertEquals(main.resolve(".git/taskid/daemon.sock"), socket);
        try (FakeDaemon daemon = new FakeDaemon(socket, Map.of("OPS", 4L), false)) {
            Processes.Result r = node(wt, noJvm, "reserve-task-ids.js", "OPS");
            assertEquals(List.of("OPS-5"), ids(r), "found the main worktree's daemon, as taskid does");
        }
        Processes.Result r = node(wt, cli, "reserve-task-ids.js", "OPS");
        assertEquals(List.of("OPS-1"), ids(r), "no daemon: the main worktree's state, through the CLI");
        assertTrue(Files.readString(main.resolve(".git/taskid/counters.json"))
                .replace(" ", "")
                .contains("\"OPS\":1"));
        assertFalse(Files.exists(wt.resolve(".taskid")));
    }

    @Test
    void aSocketPathTooLongForSunPathLeavesItToTheTaskidCommand() throws IOException {
        Path deep = tmp.resolve("d".repeat(60)).resolve("e".repeat(60));
        Files.createDirectories(deep.resolve(".git"));
        assertTrue(deep.resolve(".taskid/daemon.sock").toString().length() > 107);
        install(deep);
        Processes.Result r = node(deep, cli, "reserve-task-ids.js", "TEST", "2");
        assertEquals(List.of("TEST-1", "TEST-2"), ids(r));
    }

    private static void git(Path dir, String... args) {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        Processes.Result r = Processes.run(cmd, dir, Map.of(), Duration.ofSeconds(30));
        assertEquals(0, r.status(), r::toString);
    }

    /** Threads for concurrent child processes (the common pool may have one thread on 2 cores). */
    static final class TestExecutors {
        static final java.util.concurrent.ExecutorService POOL =
                java.util.concurrent.Executors.newCachedThreadPool(r -> {
                    Thread t = new Thread(r, "shim-caller");
                    t.setDaemon(true);
                    return t;
                });

        private TestExecutors() {}
    }
}
