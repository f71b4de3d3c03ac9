package dev.taskid.daemon;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon started on a counters.json rewound below what was issued refuses to start with
 * STATE_CORRUPT, and never copies the lowered counters over counters.json.prev (the copy that
 * {@code taskid recover} trusts).
 */
class RewoundStateDaemonTest {
    @Test
    void aDaemonDoesNotStartOnRewoundCountersNorBackThemUp(@TempDir Path tmp) throws Exception {
        Path state = tmp.resolve("state");
        try (DaemonProcess d = DaemonProcess.start(state);
                TaskIds ids = TaskIds.open(StateDir.of(state), d.clientOptions())) {
            assertEquals(
                    List.of("SEC-1", "SEC-2", "SEC-3", "SEC-4", "SEC-5"),
                    ids.reserve("SEC", 5, null).ids());
            assertEquals(0, d.stop());
        }
        try (DaemonProcess d = DaemonProcess.start(state)) { // backs SEC at 5 up into counters.json.prev
            assertEquals(0, d.stop());
        }
        Path prev = state.resolve("counters.json.prev");
        byte[] backup = Files.readAllBytes(prev);
        Files.writeString(state.resolve("counters.json"), "{\"version\":1,\"counters\":{\"SEC\":2}}");

        try (DaemonProcess d = DaemonProcess.launch(state, Map.of(), List.of())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> !d.process().isAlive());
            assertTrue(d.process().exitValue() != 0, d.log());
            assertTrue(d.log().contains("STATE_CORRUPT") && d.log().contains("SEC at 2 but 5 was issued"), d.log());
        }
        assertArrayEquals(backup, Files.readAllBytes(prev), "the backup still says SEC 5");
    }
}
