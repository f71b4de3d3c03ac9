package dev.taskid.wrap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import dev.taskid.state.StateFile;
import dev.taskid.testing.Processes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Wrapped sequences in the file-lock mode: the real CLI in child JVMs, and in-process clients. */
class WrapCliTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private final Json json = new Json();

    @TempDir
    Path root;

    Path dir;

    @BeforeEach
    void setUp() throws Exception {
        dir = root.resolve(".taskid");
        Files.createDirectories(dir);
        Files.writeString(
                dir.resolve("config.json"),
                "{\"extraPrefixes\":[\"PROJECT\"],\"prefixOptions\":{"
                        + "\"PROJECT\":{\"wrap\":1000,\"bare\":true},\"DEV\":{\"wrap\":1000},\"UX\":{\"wrap\":40}}}");
    }

    private Processes.Result taskid(String... args) {
        List<String> words = new ArrayList<>(List.of("--dir", dir.toString()));
        words.addAll(List.of(args));
        return Processes.run(Processes.taskid(words.toArray(String[]::new)), root, Map.of(), TIMEOUT);
    }

    private Map<String, Object> object(String line) throws Exception {
        byte[] bytes = line.trim().getBytes(StandardCharsets.UTF_8);
        return json.readObject(bytes, 0, bytes.length);
    }

    private Path seedState(long next) throws Exception {
        Path file = root.resolve(".opencode/specs/state.json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "{\"next_project_number\": " + next + ", \"active_projects\": []}");
        return file;
    }

    @Test
    void seed001ShapeAcrossTheWrapConflictAndArchive() throws Exception {
        Path seed = seedState(998);
        Processes.Result imported = taskid("import", "--from", seed.toString(), "--opencode-prefix", "PROJECT");
        assertEquals(0, imported.status(), imported.toString());

        Processes.Result r = taskid("reserve", "PROJECT", "3", "--format", "seed001", "--purpose", "wrap");
        assertEquals(0, r.status(), r.toString());
        Map<String, Object> o = object(r.stdout());
        assertEquals(
                List.of(
                        "status",
                        "allocated_numbers",
                        "allocation_count",
                        "previous_next_number",
                        "new_next_number",
                        "lock_acquired",
                        "lock_duration_ms",
                        "timestamp"),
                new ArrayList<>(o.keySet()));
        assertEquals("success", o.get("status"));
        assertEquals(List.of(998L, 999L, 0L), o.get("allocated_numbers"));
        assertEquals(3L, o.get("allocation_count"));
        assertEquals(998L, o.get("previous_next_number"));
        assertEquals(1L, o.get("new_next_number"), "modulo 1000, like seed 001");
        assertEquals(true, o.get("lock_acquired"));
        assertInstanceOf(Long.class, o.get("lock_duration_ms"));
        Instant.parse((String) o.get("timestamp"));

        // the seed's file is stale now: importing it again never lowers (or wraps) the counter
        assertEquals(
                0,
                taskid("import", "--from", seed.toString(), "--opencode-prefix", "PROJECT")
                        .status());
        // numbers 1 and 2 are still in use from before the switch: mark them active
        Processes.Result restored = taskid("archive", "PROJECT", "--restore", "1-2");
        assertEquals(0, restored.status(), restored.toString());

        byte[] before = Files.readAllBytes(dir.resolve("counters.json"));
        Processes.Result conflict = taskid("reserve", "PROJECT", "2", "--format", "seed001");
        assertEquals(ErrorCode.NUMBER_CONFLICT.exitStatus(), conflict.status(), conflict.toString());
        Map<String, Object> e = object(conflict.stdout());
        assertEquals("error", e.get("status"));
        assertEquals(List.of(), e.get("allocated_numbers"));
        assertEquals(0L, e.get("allocation_count"));
        @SuppressWarnings("unchecked")
        Map<String, Object> error = (Map<String, Object>) e.get("error");
        assertEquals("NUMBER_CONFLICT", error.get("code"));
        assertTrue(((String) error.get("message")).contains("taskid archive PROJECT 1 2"), error.toString());
        @SuppressWarnings("unchecked")
        Map<String, Object> details = (Map<String, Object>) error.get("details");
        assertEquals(List.of(1L, 2L), details.get("conflicts"));
        assertEquals(false, e.get("retry_suggested"));
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("counters.json")), "a conflict reserves nothing");

        Processes.Result archived = taskid("archive", "PROJECT", "001", "PROJECT-2");
        assertEquals(0, archived.status(), archived.toString());
        assertTrue(archived.stdout().contains("archived: 001 002"), archived.stdout());
        Processes.Result plain = taskid("reserve", "PROJECT", "2");
        assertEquals(0, plain.status(), plain.toString());
        assertEquals(
                List.of("001", "002"), object(plain.stdout()).get("ids"), "bare numbers, padded to the wrap's digits");

        Processes.Result list = taskid("--json", "archive", "PROJECT");
        assertEquals(0, list.status(), list.toString());
        assertEquals(List.of(0L, 1L, 2L, 998L, 999L), object(list.stdout()).get("active"));
        assertEquals(3L, object(list.stdout()).get("next"));

        Map<String, Long> counters = new StateFile(dir.resolve("counters.json"), json, Clock.systemUTC())
                .read()
                .orElseThrow()
                .counters();
        assertEquals(1002L, counters.get("PROJECT"), "positions only grow: 997 + 3 + 2");
    }

    @Test
    void importReadsNextProjectNumberInTheFirstCycle() throws Exception {
        Path seed = seedState(0); // the seed wrapped: 999 was its last number, 0 comes next
        assertEquals(
                0,
                taskid("import", "--from", seed.toString(), "--opencode-prefix", "DEV")
                        .status());
        Processes.Result r = taskid("reserve", "DEV", "2", "--verbose");
        assertEquals(0, r.status(), r.toString());
        Map<String, Object> o = object(r.stdout());
        assertEquals(List.of("DEV-000", "DEV-001"), o.get("ids"));
        assertEquals(999L, o.get("previous"));
        // a later import of a smaller next_project_number changes nothing
        seedState(5);
        Processes.Result again = taskid("--json", "import", "--from", seed.toString(), "--opencode-prefix", "DEV");
        assertEquals(0, again.status(), again.toString());
        @SuppressWarnings("unchecked")
        Map<String, Object> after = (Map<String, Object>) object(again.stdout()).get("counters");
        assertEquals(1001L, after.get("DEV"));
        Processes.Result archiveSec = taskid("archive", "SEC", "1");
        assertEquals(2, archiveSec.status(), "SEC does not wrap: " + archiveSec);
        Processes.Result usage = taskid("archive", "DEV", "x7");
        assertEquals(2, usage.status(), usage.toString());
    }

    /**
     * The invariant in the fallback mode, with the real OS lock: client processes reserve and
     * archive at random; replayed in the state's order, a number is never handed out while
     * someone holds it, and the state's active set is exactly what the clients still hold.
     */
    @Test
    void concurrentProcessesNeverHoldTheSameActiveNumber() throws Exception {
        int clients = 4;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<Processes.Result>> runs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            List<String> cmd = List.of(
                    Processes.java(),
                    "-XX:TieredStopAtLevel=1",
                    "-XX:+UseSerialGC",
                    "-cp",
                    System.getProperty("java.class.path"),
                    WrapChurn.class.getName(),
                    dir.toString(),
                    "UX",
                    Integer.toString(c),
                    "2500");
            runs.add(pool.submit(() -> Processes.run(cmd, root, Map.of(), TIMEOUT)));
        }
        List<String> outputs = new ArrayList<>();
        for (Future<Processes.Result> f : runs) {
            Processes.Result r = f.get();
            assertEquals(0, r.status(), r.toString());
            outputs.add(r.stdout());
        }
        pool.shutdown();
        WrapChurn.Checked checked = WrapChurn.check(outputs);
        assertTrue(checked.problems().isEmpty(), checked.problems().toString());
        assertTrue(checked.reservations() > 20, "only " + checked.reservations() + " reservations");
        assertTrue(checked.conflicts() > 0, "the run should have hit NUMBER_CONFLICT at least once");
        try (TaskIds ids = TaskIds.open(StateDir.of(dir), TaskIds.Options.DEFAULT)) {
            Response.Archived list = (Response.Archived)
                    ids.call(new Request.Archive(null, "UX", List.of(), false)).response();
            assertEquals(
                    checked.active(),
                    new java.util.TreeSet<>(list.active()),
                    "the active set is exactly what the clients hold");
        }
    }
}
