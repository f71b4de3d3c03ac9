package dev.taskid.admin;

import static dev.taskid.testing.JsonText.auditLines;
import static dev.taskid.testing.JsonText.object;
import static dev.taskid.testing.JsonText.strings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.state.AuditReader;
import dev.taskid.state.StateDir;
import dev.taskid.testing.Processes;
import dev.taskid.testing.Processes.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit trail and the admin commands (log, stats, recover, doctor) in the file-lock mode,
 * through real CLI processes. The daemon side: daemon/src/test/.../admin/AdminDaemonTest.
 */
class AdminCliTest {
    private static final ExecutorService CALLERS = Executors.newFixedThreadPool(8);
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    private Path repo;
    private Path state;

    @BeforeEach
    void repo() throws Exception {
        repo = Files.createDirectories(tmp.resolve("repo"));
        Files.createDirectories(repo.resolve(".git"));
        Files.writeString(repo.resolve("TASKS.md"), "| SEC-19 | existing |\n");
        state = repo.resolve(".taskid");
    }

    @AfterAll
    static void stop() {
        CALLERS.shutdownNow();
    }

    /** Every acknowledged ID has exactly one audit line naming the process that got it. */
    @Test
    void auditLinesMatchAcknowledgedIdsUnderConcurrency() throws Exception {
        taskid("init"); // first use, not raced: the creation is not what this test is about
        List<CompletableFuture<List<Result>>> callers = new ArrayList<>();
        for (int c = 0; c < 6; c++) {
            int count = 1 + c % 3;
            callers.add(CompletableFuture.supplyAsync(
                    () -> {
                        List<Result> results = new ArrayList<>();
                        for (int k = 0; k < 3; k++) {
                            results.add(Processes.run(
                                    Processes.taskid(
                                            "reserve",
                                            "SEC",
                                            String.valueOf(count),
                                            "--verbose",
                                            "--agent",
                                            "agent-" + count),
                                    repo,
                                    Map.of(),
                                    TIMEOUT));
                        }
                        return results;
                    },
                    CALLERS));
        }
        List<String> acknowledged = new ArrayList<>();
        for (CompletableFuture<List<Result>> c : callers) {
            for (Result r : c.get()) {
                assertEquals(0, r.status(), r::toString);
                acknowledged.addAll(strings(object(r.stdout()).get("ids")));
            }
        }
        List<String> audited = new ArrayList<>();
        List<Map<String, Object>> lines = auditLines(state);
        for (Map<String, Object> line : lines) {
            if ("reserve".equals(line.get("op"))) {
                audited.addAll(strings(line.get("ids")));
                assertEquals("fallback", line.get("mode"));
                assertTrue(((Long) line.get("pid")) > 0, line::toString);
                assertTrue(line.containsKey("uid") && line.containsKey("lockWaitMs"), line::toString);
                assertTrue(String.valueOf(line.get("agent")).startsWith("agent-"), line::toString);
            }
        }
        assertEquals(36, acknowledged.size());
        assertEquals(sorted(acknowledged), sorted(audited), "one audit line per acknowledged ID, no more, no less");
    }

    @Test
    void logSaysWhoReservedAnIdWhenAndWhy() throws Exception {
        taskid("reserve", "SEC", "2", "--purpose", "security review of the parser", "--agent", "claude-7");
        Result who = taskid("log", "SEC-21");
        assertEquals(0, who.status(), who::toString);
        assertTrue(
                who.stdout().contains("SEC-20 SEC-21")
                        && who.stdout().contains("claude-7")
                        && who.stdout().contains("security review of the parser"),
                who.stdout());
        Map<String, Object> line = object(taskid("log", "SEC-21", "--json").stdout());
        assertEquals(List.of("SEC-20", "SEC-21"), line.get("ids"));
        assertEquals(1, taskid("log", "SEC-99").status(), "no entry for an ID never handed out");
        assertEquals(2, taskid("log", "--since", "yesterday-ish").status(), "bad --since is a usage error");
    }

    @Test
    void rotationKeepsBoundedFilesAndLogReadsAcrossThem() throws Exception {
        Files.createDirectories(state);
        Files.writeString(state.resolve("config.json"), "{\"audit\":{\"maxBytes\":1024,\"keep\":2}}");
        try (TaskIds ids = TaskIds.open(StateDir.of(state), TaskIds.Options.DEFAULT)) {
            for (int i = 0; i < 40; i++) {
                ids.reserve("SEC", 1, "rotation " + "x".repeat(40));
            }
        }
        List<Path> files = AuditReader.files(state);
        assertEquals(3, files.size(), "audit.log and 2 rotated files: " + files);
        for (Path f : files) {
            assertTrue(Files.size(f) <= 1024, f + " is " + Files.size(f) + " bytes");
        }
        String last = taskid("log", "SEC", "--json")
                .stdout()
                .lines()
                .reduce((a, b) -> b)
                .orElse("");
        assertTrue(last.contains("\"SEC-59\""), "log reads the newest file last: " + last);
        assertFalse(Files.exists(state.resolve("audit.log.3")));
    }

    @Test
    void recoverNeverLowersAnyCounterAndNeedsYes() throws Exception {
        Files.writeString(repo.resolve("TASKS.md"), "| SEC-19 | a |\n| UX-40 | b |\n");
        taskid("reserve", "SEC", "5"); // SEC-20..24: the audit log knows 24
        taskid("reserve", "UX", "1"); // UX-41
        taskid("reserve", "SEC", "1"); // SEC-25
        Files.writeString(state.resolve("counters.json.prev"), "{\"version\":1,\"counters\":{\"SEC\":24,\"DOC\":7}}");
        Files.writeString(repo.resolve("TASKS.md"), "| SEC-19 | a |\n| UX-90 | b |\n"); // TASKS.md is ahead for UX
        Path counters = state.resolve("counters.json");
        byte[] garbage = "{\"version\":1,\"counters\":{\"SEC\":".getBytes(StandardCharsets.UTF_8);
        Files.write(counters, garbage);
        assertEquals(5, taskid("reserve", "SEC").status(), "STATE_CORRUPT");

        Result plan = taskid("recover", "--json");
        assertEquals(1, plan.status(), plan::toString);
        assertArrayEquals(garbage, Files.readAllBytes(counters), "no --yes: nothing written");
        assertTrue(
                plan.stdout()
                        .contains("\"prefix\":\"SEC\",\"auditLog\":25,\"tasksMd\":19,\"backup\":24,\"counter\":25"),
                plan.stdout());
        assertTrue(
                plan.stdout()
                        .contains("\"prefix\":\"UX\",\"auditLog\":41,\"tasksMd\":90,\"backup\":null,\"counter\":90"),
                plan.stdout());
        assertTrue(
                plan.stdout()
                        .contains("\"prefix\":\"DOC\",\"auditLog\":null,\"tasksMd\":null,\"backup\":7,\"counter\":7"),
                plan.stdout());

        Result done = taskid("recover", "--yes");
        assertEquals(0, done.status(), done::toString);
        try (Stream<Path> s = Files.list(state)) {
            Path copy = s.filter(p -> p.getFileName().toString().startsWith("counters.json.corrupt-"))
                    .findFirst()
                    .orElseThrow();
            assertArrayEquals(garbage, Files.readAllBytes(copy), "the unreadable bytes are kept");
        }
        assertEquals(
                List.of("SEC-26"), object(taskid("reserve", "SEC").stdout()).get("ids"));
        assertEquals(List.of("UX-91"), object(taskid("reserve", "UX").stdout()).get("ids"));
        assertEquals(0, taskid("recover").status(), "a readable file: nothing to recover");
        assertTrue(auditLines(state).stream()
                .anyMatch(l -> "recover".equals(l.get("op")) && Long.valueOf(90).equals(l.get("to"))));
    }

    /** A deleted counters.json is not a first use: it comes back from the audit log, not from TASKS.md. */
    @Test
    void deletedCountersFileIsRebuiltNotReset() throws Exception {
        taskid("reserve", "SEC", "10"); // SEC-20..29
        Files.delete(state.resolve("counters.json"));
        Result r = taskid("reserve", "SEC");
        assertEquals(0, r.status(), r::toString);
        assertEquals(List.of("SEC-30"), object(r.stdout()).get("ids"));
        assertTrue(r.stderr().contains("missing although taskid had used this directory before"), r.stderr());
    }

    @Test
    void doctorPassesWhenHealthyAndFailsLoudlyOnDriftAndCorruption() throws Exception {
        taskid("reserve", "SEC");
        Result healthy = taskid("doctor");
        assertEquals(0, healthy.status(), healthy::toString);
        assertTrue(
                healthy.stdout().contains("no daemon running")
                        && healthy.stdout().endsWith("healthy\n"),
                healthy.stdout());

        Files.writeString(
                repo.resolve("TASKS.md"),
                "| SEC-19 | a |\n| SEC-33 | made up |\n",
                java.nio.file.StandardOpenOption.APPEND);
        Result drift = taskid("doctor", "--json");
        assertEquals(1, drift.status(), drift::toString);
        assertTrue(
                drift.stdout().contains("\"check\":\"drift\",\"level\":\"fail\"")
                        && drift.stdout().contains("SEC-33"),
                drift.stdout());

        Files.writeString(state.resolve("counters.json"), "not json");
        Result corrupt = taskid("doctor");
        assertEquals(1, corrupt.status(), corrupt::toString);
        assertTrue(
                corrupt.stdout().contains("FAIL  counters") && corrupt.stdout().contains("taskid recover"),
                corrupt.stdout());
    }

    @Test
    void statsInTheFallbackModeComeFromTheAuditLog() throws Exception {
        taskid("reserve", "SEC", "3");
        taskid("reserve", "SEC");
        Map<String, Object> stats = object(taskid("stats", "--json").stdout());
        assertEquals("fallback", stats.get("mode"));
        @SuppressWarnings("unchecked")
        Map<String, Object> audit = (Map<String, Object>) stats.get("audit");
        assertEquals(Map.of("fallback", 4L), audit.get("idsByMode"));
        assertTrue(audit.containsKey("fallbackLockWaitMs"), audit::toString);
    }

    // ----------------------------------------------------------------- helpers

    private Result taskid(String... args) {
        return Processes.run(Processes.taskid(args), repo, Map.of(), TIMEOUT);
    }

    private static List<String> sorted(List<String> ids) {
        return ids.stream().sorted().toList();
    }
}
