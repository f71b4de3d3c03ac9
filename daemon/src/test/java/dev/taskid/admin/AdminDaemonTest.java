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
                calls.add(CompletableFuture.supplyAsync(() -> Processes.run(Processes.taskid("--no-fallback", "reserve", "UX",
                        String.valueOf(count), "--verbose", "--agent", "daemon-agent"), repo, Map.of(), TIMEOUT), CALLERS));
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
            assertEquals(acknowledged.stream().sorted().toList(), audited.stream().sorted().toList(),
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

            Files.writeString(repo.resolve("TASKS.md"), "| SEC-50 | made up |\n", java.nio.file.StandardOpenOption.APPEND);
            Result drift = taskid(repo, "doctor", "--json");
            assertEquals(1, drift.status(), drift::toString);
            assertTrue(drift.stdout().contains("\"check\":\"drift\",\"level\":\"fail\""), drift.stdout());

            Result recover = taskid(repo, "recover", "--yes");
            assertEquals(0, recover.status(), recover::toString);
            assertTrue(recover.stdout().contains("nothing to recover"), "a readable file needs no lock to say so: " + recover);
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
