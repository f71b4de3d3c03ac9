package dev.taskid.daemon;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Response;
import dev.taskid.server.Connections;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** What the daemon has done since it started. Touched only by the state thread. */
final class DaemonStats {
    /** Persist latencies are kept for the most recent persists only. */
    private static final int LATENCY_WINDOW = 4096;

    private final Instant started;
    private final Map<String, Long> requests = new TreeMap<>();
    private final Map<ErrorCode, Long> errors = new EnumMap<>(ErrorCode.class);
    private final long[] persistNanos = new long[LATENCY_WINDOW];
    private long persists;
    private long persistFailures;
    private long batches;
    private long batchedRequests;
    private long maxBatch;
    private long idsAllocated;
    /** Reservations of wrapped prefixes that handed out number 0, i.e. came round. */
    private long wraps;

    DaemonStats(Instant started) {
        this.started = started;
    }

    void answered(String op, Response response) {
        requests.merge(op, 1L, Long::sum);
        if (response instanceof Response.Failure f) {
            errors.merge(f.code(), 1L, Long::sum);
        } else if (response instanceof Response.Reserved r && !r.replayed()) {
            idsAllocated += r.ids().size();
            if (r.numbers().contains(0L)) {
                wraps++; // only a wrapped sequence hands out 0
            }
        }
    }

    void batch(int size) {
        batches++;
        batchedRequests += size;
        maxBatch = Math.max(maxBatch, size);
    }

    void persisted(long nanos) {
        persistNanos[(int) (persists % LATENCY_WINDOW)] = nanos;
        persists++;
    }

    void persistFailed() {
        persistFailures++;
    }

    long persists() {
        return persists;
    }

    Map<String, Object> snapshot(Instant now, Connections connections, long pid, String epoch) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", pid);
        m.put("epoch", epoch);
        m.put("uptimeSeconds", Duration.between(started, now).toSeconds());
        m.put("requests", new TreeMap<>(requests));
        m.put("idsAllocated", idsAllocated);
        m.put("batches", batches);
        m.put("meanBatchSize", batches == 0 ? 0.0 : (double) batchedRequests / batches);
        m.put("maxBatchSize", maxBatch);
        m.put("persists", persists);
        m.put("persistFailures", persistFailures);
        int n = (int) Math.min(persists, LATENCY_WINDOW);
        long[] sorted = Arrays.copyOf(persistNanos, n);
        Arrays.sort(sorted);
        m.put("persistMillisP50", n == 0 ? 0.0 : sorted[n / 2] / 1e6);
        m.put("persistMillisP99", n == 0 ? 0.0 : sorted[Math.min(n - 1, (int) (n * 0.99))] / 1e6);
        Map<String, Long> byCode = new TreeMap<>();
        errors.forEach((code, count) -> byCode.put(code.name(), count));
        m.put("errors", byCode);
        m.put("wraps", wraps);
        m.put("numberConflicts", errors.getOrDefault(ErrorCode.NUMBER_CONFLICT, 0L));
        m.put("connectionsOpen", connections == null ? 0 : connections.open());
        m.put("connectionsTotal", connections == null ? 0 : connections.total());
        return m;
    }
}
