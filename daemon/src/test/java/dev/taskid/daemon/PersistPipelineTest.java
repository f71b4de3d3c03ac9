package dev.taskid.daemon;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.taskid.client.TaskIds;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.FsyncShim;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The persist pipeline, on a real daemon whose directory fsync (the install's) is stalled by
 * the fsync shim: batch k+1 is prepared (its counters.json tmp file written and synced, with
 * batch k's changes in it) while batch k installs, and neither is answered before its own
 * install completed. Fails with one persist at a time: no second tmp file appears while the
 * first install waits.
 */
class PersistPipelineTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    @Test
    void theNextBatchIsPreparedWhileOneInstallsAndNothingIsAnsweredBeforeItsInstall() throws Exception {
        FsyncShim shim = FsyncShim.compile(Files.createDirectories(tmp.resolve("shim")));
        Path state = Files.createDirectories(tmp.resolve("state"));
        Path trigger = tmp.resolve("stall");
        String dir = FsyncShim.exactly(state);
        try (DaemonProcess d = DaemonProcess.start(state, shim.stall(dir, trigger), List.of());
                TaskIds a = TaskIds.open(StateDir.of(state), d.clientOptions());
                TaskIds b = TaskIds.open(StateDir.of(state), d.clientOptions())) {
            // Both connected first: a new connection's hello waits for the batches in flight.
            assertEquals(List.of("SEC-1"), a.reserve("SEC", 1, "warm up").ids());
            assertEquals(List.of("SEC-2"), b.reserve("SEC", 1, "warm up").ids());

            Files.writeString(trigger, "stall");
            CompletableFuture<Response> first =
                    CompletableFuture.supplyAsync(() -> a.call(reserve(1)).response());
            await().atMost(TIMEOUT).until(() -> shim.calls().stream().anyMatch(c -> c.endsWith(" stalled")));
            CompletableFuture<Response> second =
                    CompletableFuture.supplyAsync(() -> b.call(reserve(2)).response());
            await().atMost(TIMEOUT)
                    .until(() -> preparedFiles(state).anyMatch(text -> text.contains("\"counters\":{\"SEC\":5}")));
            assertFalse(first.isDone(), "batch k is not answered before its install completed");
            assertFalse(second.isDone(), "nor batch k+1, prepared");
            try (TaskIds c = TaskIds.open(StateDir.of(state), d.clientOptions())) {
                // A new connection's hello and ping need nothing of the state: answered at once.
                // (They waited for the batches in flight before: this call timed out.)
                assertInstanceOf(
                        Response.Pong.class,
                        CompletableFuture.supplyAsync(
                                        () -> c.call(new Request.Ping(null)).response())
                                .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
            }
            assertFalse(first.isDone(), "while batch k still waits");

            Files.delete(trigger);
            assertEquals(List.of("SEC-3"), ids(first.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)));
            assertEquals(List.of("SEC-4", "SEC-5"), ids(second.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)));
            assertEquals(0, d.stop(), d.log());
        } finally {
            Files.deleteIfExists(trigger);
        }
    }

    /** The contents of the counters.json temporary files in {@code state}. */
    private static Stream<String> preparedFiles(Path state) throws IOException {
        try (Stream<Path> files = Files.list(state)) {
            return files
                    .filter(p -> p.getFileName().toString().matches("counters\\.json\\..*tmp"))
                    .map(p -> {
                        try {
                            return Files.readString(p);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    })
                    .toList()
                    .stream();
        }
    }

    private static Request reserve(long count) {
        return new Request.Reserve(null, "SEC", count, "in the pipeline", null, null);
    }

    private static List<String> ids(Response r) {
        return assertInstanceOf(Response.Reserved.class, r).ids();
    }
}
