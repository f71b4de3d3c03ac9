package dev.taskid.wrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.testing.Processes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A counters.json rebuilt (deleted, then the next call creates it) takes the active numbers of
 * wrapped prefixes from the audit log, not from an old or absent counters.json.prev; when the
 * log cannot tell, the rebuild is refused and `recover --all-active` is the way out.
 */
class WrapRebuildCliTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private final Json json = new Json();

    @TempDir
    Path root;

    Path dir;

    @BeforeEach
    void setUp() throws Exception {
        dir = root.resolve(".taskid");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{\"prefixOptions\":{\"DEV\":{\"wrap\":10}}}");
    }

    private Processes.Result taskid(String... args) {
        List<String> words = new ArrayList<>(List.of("--dir", dir.toString()));
        words.addAll(List.of(args));
        return Processes.run(Processes.taskid(words.toArray(String[]::new)), root, Map.of(), TIMEOUT);
    }

    private Object ids(Processes.Result r) throws Exception {
        byte[] bytes = r.stdout().trim().getBytes(StandardCharsets.UTF_8);
        return json.readObject(bytes, 0, bytes.length).get("ids");
    }

    @Test
    void aDeletedCountersFileGetsItsActiveNumbersBackFromTheAuditLog() throws Exception {
        assertEquals(List.of("DEV-1", "DEV-2", "DEV-3"), ids(taskid("reserve", "DEV", "3")));
        assertEquals(0, taskid("archive", "DEV", "2").status());
        Files.delete(dir.resolve("counters.json"));

        Processes.Result rest = taskid("reserve", "DEV", "7"); // positions 4..10: 4..9, 0
        assertEquals(0, rest.status(), rest.toString());
        Processes.Result wrapped = taskid("reserve", "DEV"); // position 11: 1, still active
        assertEquals(ErrorCode.NUMBER_CONFLICT.exitStatus(), wrapped.status(), "DEV-1 is in use: " + wrapped);
        assertEquals(0, taskid("archive", "DEV", "1").status());
        assertEquals(List.of("DEV-1", "DEV-2"), ids(taskid("reserve", "DEV", "2")), "2 was archived before the loss");
    }

    @Test
    void aTornLogRefusesTheRebuildAndRecoverAllActiveMarksEverything() throws Exception {
        assertEquals(0, taskid("reserve", "DEV", "3").status());
        Files.writeString(dir.resolve("audit.log"), "{\"time\":\"2026-\n", StandardOpenOption.APPEND);
        Files.delete(dir.resolve("counters.json"));

        Processes.Result refused = taskid("reserve", "DEV");
        assertEquals(ErrorCode.STATE_CORRUPT.exitStatus(), refused.status(), refused.toString());
        assertTrue(
                refused.stderr().contains("unreadable") && refused.stderr().contains("recover --all-active"),
                refused.toString());
        assertTrue(Files.notExists(dir.resolve("counters.json")), "nothing written");

        Processes.Result recovered = taskid("recover", "--all-active", "--yes");
        assertEquals(0, recovered.status(), recovered.toString());
        Processes.Result next = taskid("reserve", "DEV"); // position 4: 4 is free
        assertEquals(List.of("DEV-4"), ids(next), next.toString());
        Processes.Result list = taskid("--json", "archive", "DEV");
        assertTrue(list.stdout().contains("\"active\":[1,2,3,4]"), list.toString());
    }
}
