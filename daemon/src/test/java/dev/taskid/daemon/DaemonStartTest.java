package dev.taskid.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the daemon's start no longer spends time on before its first answer (docs/BENCHMARKS.md,
 * "Daemon ready time and RSS, session 7"), seen in the classes a real daemon JVM loads: logback's
 * auto-configuration (LogProvider configures the context with LogSetup directly) and
 * UUID.randomUUID's SecureRandom for the epoch; and that what it logs and answers is unchanged.
 */
class DaemonStartTest {
    private static final Pattern UUID_V4 =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

    @TempDir
    Path tmp;

    @Test
    void startsWithoutLogbacksAutoConfigurationOrSecureRandomForTheEpoch() throws IOException {
        Path classes = tmp.resolve("classes.log");
        Path state = tmp.resolve("state");
        String first;
        try (DaemonProcess daemon = DaemonProcess.start(state, Map.of(), List.of("-Xlog:class+load:file=" + classes))) {
            first = epoch(daemon);
            String loaded = Files.readString(classes);
            assertTrue(loaded.contains(" dev.taskid.daemon.LogProvider "), "slf4j's provider is the daemon's");
            assertFalse(
                    loaded.contains(" ch.qos.logback.classic.util.ContextInitializer "),
                    "logback's auto-configuration ran");
            assertFalse(loaded.contains(" java.util.UUID$Holder "), "the epoch came from UUID.randomUUID()");
            assertTrue(
                    Pattern.compile(
                                    "(?m)^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO  Daemon: taskid daemon .* serving ")
                            .matcher(daemon.log())
                            .find(),
                    daemon.log());
            assertFalse(daemon.log().contains("SLF4J"), "slf4j announced its provider: " + daemon.log());
            assertEquals(0, daemon.stop());
        }
        try (DaemonProcess daemon = DaemonProcess.start(state)) {
            assertNotEquals(first, epoch(daemon), "every start has an epoch of its own");
        }
        assertTrue(UUID_V4.matcher(first).matches(), first);
    }

    @Test
    void aTransportThatCannotBeHadStillFailsTheStartWithItsReason() {
        // Chosen on the thread that prepares the server: its failure is the start's.
        try (DaemonProcess daemon =
                DaemonProcess.launch(tmp.resolve("state"), Map.of(), List.of("-Dtaskid.transport=carrier-pigeon"))) {
            assertEquals(6, daemon.awaitExit());
            assertTrue(
                    daemon.log().contains("taskid.transport must be epoll or nio, got carrier-pigeon"), daemon.log());
            assertFalse(Files.exists(tmp.resolve("state").resolve("daemon.sock")), "nothing was bound");
        }
    }

    private static String epoch(DaemonProcess daemon) {
        try (TaskIds ids = TaskIds.open(StateDir.of(daemon.stateDir()), daemon.clientOptions())) {
            return ids.daemon().map(Response.Hello::epoch).orElseThrow();
        }
    }
}
