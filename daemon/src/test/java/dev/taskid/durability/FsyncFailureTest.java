package dev.taskid.durability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskId;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.FsyncShim;
import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * fsync fails ("fsyncgate"): an LD_PRELOAD shim makes fsync/fdatasync of one state file return
 * EIO in a real daemon and in real CLI processes in file-lock mode: the counters tmp file, the
 * state directory (after the rename) or the audit log. The failing batch is answered with
 * SYSTEM_ERROR and nothing of it is acknowledged (the daemon's audit.log sync comes after the
 * answer, the batch's lines being in counters.json by then: there the batch after it fails, as
 * it must write them again first); a one-shot fault pins that nobody retries the
 * fsync (after a real write-back error the retry succeeds although the data is lost, so a
 * retry would then claim success); after the fault clears the numbers go on and nothing
 * acknowledged is handed out again, by the daemon or by the file-lock fallback after it.
 */
class FsyncFailureTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"tmp", "dir", "audit"})
    void theDaemonAnswersAFailedFsyncWithAnErrorAndNeverReissues(String which) throws Exception {
        FsyncShim shim = FsyncShim.compile(Files.createDirectories(tmp.resolve("shim")));
        Path state = Files.createDirectories(tmp.resolve("state"));
        Path trigger = tmp.resolve("trigger");
        Set<String> acked = new LinkedHashSet<>();
        try (DaemonProcess d = DaemonProcess.start(state, shim.eio(regex(which, state), trigger), List.of());
                TaskIds client = TaskIds.open(StateDir.of(state), d.clientOptions())) {
            acked.addAll(client.reserve("SEC", 2, "before").ids());

            FsyncShim.once(trigger);
            Response third = client.call(reserve(3)).response();
            if (which.equals("audit")) {
                // The daemon syncs audit.log after the answer: the batch was durable already, its
                // lines inside counters.json. The failed sync makes the next batch write them again.
                acked.addAll(fresh(
                        acked, assertInstanceOf(Response.Reserved.class, third).ids()));
                await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(trigger));
            } else {
                assertRefused(third);
                assertFalse(Files.exists(trigger), "the fault fired");
            }
            assertTrue(
                    shim.calls().stream().anyMatch(l -> l.endsWith(" EIO")),
                    shim.calls().toString());

            FsyncShim.always(trigger); // three clients at once: every batch fails, nothing is acknowledged
            List<CompletableFuture<Response>> batch = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                batch.add(CompletableFuture.supplyAsync(() -> {
                    try (TaskIds c = TaskIds.open(StateDir.of(state), d.clientOptions())) {
                        return c.call(reserve(2)).response();
                    }
                }));
            }
            batch.forEach(f -> assertRefused(f.join()));
            Files.delete(trigger);

            acked.addAll(
                    fresh(acked, client.reserve("SEC", 2, "after the fault").ids()));
            assertTrue(d.process().isAlive(), "the daemon serves on");
            assertEquals(0, d.stop(), d.log());
        }
        String audit = Files.readString(state.resolve("audit.log"));
        for (String id : acked) {
            assertTrue(audit.contains("\"" + id + "\""), id + " was acknowledged and has no audit line: " + audit);
        }
        // The file-lock fallback reads what the daemon left on disk.
        Processes.Result r = cli(state, Map.of(), "reserve", "SEC", "2");
        assertEquals(0, r.status(), r.toString());
        fresh(acked, Recording.ids(r.stdout()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tmp", "dir", "audit"})
    void theFallbackAnswersAFailedFsyncWithAnErrorAndNeverReissues(String which) throws Exception {
        FsyncShim shim = FsyncShim.compile(Files.createDirectories(tmp.resolve("shim")));
        Path state = Files.createDirectories(tmp.resolve("state"));
        Path trigger = tmp.resolve("trigger");
        Map<String, String> env = shim.eio(regex(which, state), trigger);
        Set<String> acked = new LinkedHashSet<>();
        // Two calls first: the second also writes highwater.json (a cache of the audit log, whose
        // failed write is only logged), so that the one-shot fault below meets counters.json.
        for (int i = 0; i < 2; i++) {
            Processes.Result first = cli(state, env, "reserve", "SEC", "2");
            assertEquals(0, first.status(), first.toString());
            acked.addAll(Recording.ids(first.stdout()));
        }

        FsyncShim.once(trigger);
        assertCliRefused(cli(state, env, "--json", "reserve", "SEC", "3"));
        assertFalse(Files.exists(trigger), "the fault fired");

        FsyncShim.always(trigger); // two writers at once, both refused
        List<CompletableFuture<Processes.Result>> both = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            both.add(CompletableFuture.supplyAsync(() -> cli(state, env, "reserve", "SEC", "2")));
        }
        both.forEach(f -> assertCliRefused(f.join()));
        assertTrue(
                shim.calls().stream().filter(l -> l.endsWith(" EIO")).count() >= 3,
                shim.calls().toString());
        Files.delete(trigger);

        Processes.Result after = cli(state, env, "reserve", "SEC", "2");
        assertEquals(0, after.status(), after.toString());
        fresh(acked, Recording.ids(after.stdout()));
    }

    /** The shim's pattern for the state file whose fsync fails. */
    private static String regex(String which, Path state) {
        return switch (which) {
            case "tmp" -> "counters\\.json[^/]*tmp[^/]*$";
            case "dir" -> FsyncShim.exactly(state);
            default -> "/audit\\.log$";
        };
    }

    /** {@code ids} are new and above every acknowledged number: the counter went on. */
    private static List<String> fresh(Set<String> acked, List<String> ids) {
        assertFalse(ids.isEmpty());
        long highest = acked.stream()
                .mapToLong(id -> TaskId.parse(id).orElseThrow().number())
                .max()
                .orElse(0);
        for (String id : ids) {
            assertFalse(acked.contains(id), id + " was acknowledged before: " + acked);
            assertTrue(TaskId.parse(id).orElseThrow().number() > highest, id + " is not above " + acked);
        }
        return ids;
    }

    private static Request reserve(long count) {
        return new Request.Reserve(null, "SEC", count, "while fsync fails", null, null);
    }

    private static void assertRefused(Response r) {
        Response.Failure f = assertInstanceOf(Response.Failure.class, r);
        assertEquals(ErrorCode.SYSTEM_ERROR, f.code(), f.message());
    }

    /** Exit 6 (SYSTEM_ERROR) and no ID on stdout. */
    private static void assertCliRefused(Processes.Result r) {
        assertEquals(6, r.status(), r.toString());
        assertTrue(r.stderr().contains("SYSTEM_ERROR") || r.stdout().contains("SYSTEM_ERROR"), r.toString());
        assertEquals(List.of(), Recording.ids(r.stdout()), r.toString());
    }

    private static Processes.Result cli(Path state, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of("--dir", state.toString()));
        command.addAll(List.of(args));
        return Processes.run(Processes.taskid(command.toArray(String[]::new)), state.getParent(), env, TIMEOUT);
    }
}
