package dev.taskid.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Group commit batches for real: concurrent connections to a daemon process share fsyncs. */
class GroupCommitTest {
    private static final int CLIENTS = 32;
    private static final int EACH = 40;

    @Test
    void thirtyTwoConcurrentConnectionsNeedFewerPersistsThanRequests(@TempDir Path tmp) throws Exception {
        Path state = tmp.resolve(StateDir.NAME);
        try (DaemonProcess daemon = DaemonProcess.start(state)) {
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            CyclicBarrier together = new CyclicBarrier(CLIENTS);
            List<Future<List<String>>> results = new ArrayList<>();
            try {
                for (int c = 0; c < CLIENTS; c++) {
                    results.add(pool.submit(() -> {
                        List<String> ids = new ArrayList<>();
                        try (TaskIds client = TaskIds.open(StateDir.of(state), daemon.clientOptions())) {
                            assertTrue(client.daemon().isPresent(), "connected before the start line");
                            together.await(60, TimeUnit.SECONDS);
                            for (int i = 0; i < EACH; i++) {
                                ids.addAll(
                                        client.reserve("SEC", 1, "group commit").ids());
                            }
                        }
                        return ids;
                    }));
                }
                Set<String> all = new HashSet<>();
                for (Future<List<String>> f : results) {
                    all.addAll(f.get(120, TimeUnit.SECONDS));
                }
                assertEquals(CLIENTS * EACH, all.size(), "every reservation got its own ID");
            } finally {
                pool.shutdownNow();
            }

            Map<String, Object> stats;
            try (TaskIds client = TaskIds.open(StateDir.of(state), daemon.clientOptions())) {
                stats = ((Response.Stats) client.call(new Request.Stats(null)).response()).values();
            }
            long reserves = ((Number) ((Map<?, ?>) stats.get("requests")).get("reserve")).longValue();
            long persists = ((Number) stats.get("persists")).longValue();
            assertEquals(CLIENTS * EACH, reserves, "stats: " + stats);
            assertTrue(
                    persists < reserves,
                    "persists " + persists + " < reserve requests " + reserves + "; stats: " + stats);
            assertTrue(((Number) stats.get("maxBatchSize")).longValue() > 1, "stats: " + stats);
            assertEquals(0, daemon.stop());
        }
    }
}
