package dev.taskid.admin;

import static dev.taskid.testing.JsonText.auditLines;
import static dev.taskid.testing.JsonText.object;
import static dev.taskid.testing.JsonText.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.Processes;
import dev.taskid.testing.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit trail and the admin commands with a daemon serving: audit lines written in the
 * daemon's group commit, with the peer credentials of the client processes; doctor, stats and
 * recover as seen through the daemon.
 */
class AdminDaemonTest {
    private static final ExecutorService CALLERS = Executors.newFixedThreadPool(8);
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    @AfterAll
    static void stop() {
        CALLERS.shutdownNow();
    }

    @Test
    void auditLinesMatchAcknowledgedIdsAndNameTheClientProcesses() throws Exception {
        Path repo = repo();
        try (DaemonProcess daemon = DaemonProcess.start(repo.resolve(".taskid"))) {
            List<CompletableFuture<Result>> calls = new ArrayList<>();
            for (int c = 0; c < 12; c++) {
                int count = 1 + c % 4;
                calls.add(CompletableFuture.supplyAsync(
                        () -> Processes.run(
                                Processes.taskid(
                                        "--no-fallback",
                                        "reserve",
                                        "UX",
                                        String.valueOf(count),
                                        "--verbose",
                                        "--agent",
                                        "daemon-agent"),
                                repo,
                                Map.of(),
                                TIMEOUT),
                        CALLERS));
            }
            List<String> acknowledged = new ArrayList<>();
            for (CompletableFuture<Result> c : calls) {
                Result r = c.get();
                assertEquals(0, r.status(), r::toString);
                Map<String, Object> reply = object(r.stdout());
                assertEquals("daemon", reply.get("mode"), r.stdout());
                acknowledged.addAll(strings(reply.get("ids")));
            }
            List<String> audited = new ArrayList<>();
            Set<Long> pids = new HashSet<>();
            for (Map<String, Object> line : auditLines(repo.resolve(".taskid"))) {
                if ("reserve".equals(line.get("op"))) {
                    assertEquals("daemon", line.get("mode"), line::toString);
                    assertEquals("daemon-agent", line.get("agent"), line::toString);
                    assertEquals((long) dev.taskid.state.Users.currentUid(), ((Number) line.get("uid")).longValue());
                    pids.add(((Number) line.get("pid")).longValue());
                    audited.addAll(strings(line.get("ids")));
                }
            }
            assertEquals(30, acknowledged.size());
            assertEquals(
                    acknowledged.stream().sorted().toList(),
                    audited.stream().sorted().toList(),
                    "one audit line per acknowledged ID, no more, no less");
            assertEquals(12, pids.size(), "each line names its client's pid (SO_PEERCRED), not the daemon's: " + pids);
            assertTrue(!pids.contains(daemon.pid()), "the daemon's own pid is not a requester");
        }
    }

    @Test
    void doctorAndStatsSeeTheDaemon() throws Exception {
        Path repo = repo();
        try (DaemonProcess daemon = DaemonProcess.start(repo.resolve(".taskid"))) {
            assertEquals(0, taskid(repo, "reserve", "SEC", "2").status());
            Result doctor = taskid(repo, "doctor");
            assertEquals(0, doctor.status(), doctor::toString);
            assertTrue(doctor.stdout().contains("ok    daemon          pid " + daemon.pid()), doctor.stdout());
            assertTrue(doctor.stdout().contains("held by the daemon"), doctor.stdout());
            assertTrue(Files.exists(repo.resolve(".taskid/counters.json.prev")), "the daemon backs up what it loaded");

            Map<String, Object> stats = object(taskid(repo, "stats", "--json").stdout());
            assertEquals("daemon", stats.get("mode"), stats::toString);
            String text = stats.toString();
            assertTrue(text.contains("persistMillisP50") && text.contains("batchSizeHistogram"), text);

            Files.writeString(
                    repo.resolve("TASKS.md"), "| SEC-50 | made up |\n", java.nio.file.StandardOpenOption.APPEND);
            Result drift = taskid(repo, "doctor", "--json");
            assertEquals(1, drift.status(), drift::toString);
            assertTrue(drift.stdout().contains("\"check\":\"drift\",\"level\":\"fail\""), drift.stdout());

            Result recover = taskid(repo, "recover", "--yes");
            assertEquals(0, recover.status(), recover::toString);
            assertTrue(
                    recover.stdout().contains("nothing to recover"),
                    "a readable file needs no lock to say so: " + recover);

            Path counters = repo.resolve(".taskid/counters.json");
            Files.writeString(counters, "garbage"); // damaged behind the running daemon's back
            Result refused = taskid(repo, "recover", "--yes");
            assertEquals(4, refused.status(), refused::toString);
            assertTrue(
                    refused.stderr().contains("pid " + daemon.pid())
                            && refused.stderr().contains("taskid daemon stop"),
                    "refused at once, naming the daemon and what to do: " + refused);
            assertEquals("garbage", Files.readString(counters), "nothing written");
        }
    }

    /** Not only reserve: set, archive and restore leave one line each, in the daemon's mode and in the fallback. */
    @Test
    void everyStateChangeIsAuditedInBothModes() throws Exception {
        Path repo = repo();
        Path state = repo.resolve(".taskid");
        Files.createDirectories(state);
        Files.writeString(
                state.resolve("config.json"),
                "{\"extraPrefixes\":[\"PROJECT\"],\"prefixOptions\":{\"PROJECT\":{\"wrap\":1000,\"bare\":true}}}");
        try (DaemonProcess daemon = DaemonProcess.start(state)) {
            changeState(repo, 30, "--no-fallback");
            daemon.stop();
        }
        changeState(repo, 40); // no daemon now: the file lock
        List<String> seen = new ArrayList<>();
        for (Map<String, Object> line : auditLines(state)) {
            if (!"create".equals(line.get("op"))) {
                seen.add(line.get("mode") + " " + line.get("op") + " " + line.get("prefix") + " "
                        + line.getOrDefault("to", line.get("numbers")));
            }
        }
        assertEquals(
                List.of(
                        "daemon set SEC 30",
                        "daemon reserve PROJECT 2",
                        "daemon archive PROJECT [1]",
                        "daemon restore PROJECT [1]",
                        "fallback set SEC 40",
                        "fallback reserve PROJECT 4",
                        "fallback archive PROJECT [1]",
                        "fallback restore PROJECT [1]"),
                seen);
    }

    private static void changeState(Path repo, long sec, String... global) {
        for (List<String> args : List.of(
                List.of("set", "SEC", String.valueOf(sec)),
                List.of("reserve", "PROJECT", "2"),
                List.of("archive", "PROJECT", "1"),
                List.of("archive", "PROJECT", "1", "--restore"))) {
            List<String> words = new ArrayList<>(List.of(global));
            words.addAll(args);
            Result r = taskid(repo, words.toArray(String[]::new));
            assertEquals(0, r.status(), r::toString);
        }
    }

    private Path repo() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("repo-" + System.nanoTime()));
        Files.createDirectories(repo.resolve(".git"));
        Files.writeString(repo.resolve("TASKS.md"), "| SEC-19 | existing |\n");
        return repo;
    }

    private static Result taskid(Path repo, String... args) {
        return Processes.run(Processes.taskid(args), repo, Map.of(), TIMEOUT);
    }
}
