package dev.taskid.daemon;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Response;
import dev.taskid.server.Connections;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** What the daemon has done since it started. Touched only on the state loop. */
final class DaemonStats {
    /** Persist latencies are kept for the most recent persists only. */
    private static final int LATENCY_WINDOW = 4096;

    private static final double[] PERSIST_BUCKETS_MS = {0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 1000};

    /** The ops counted in an array (no map lookup or boxing per request), and "invalid" lines. */
    private static final String[] OPS = {
        "archive", "hello", "init", "invalid", "peek", "ping", "reserve", "set", "stats", "validate"
    };

    private final Instant started;
    private final long[] requests = new long[OPS.length];
    /** Ops this class does not list (none today): counted by name. */
    private final Map<String, Long> otherRequests = new TreeMap<>();

    private final long[] errors = new long[ErrorCode.values().length];
    private final long[] persistNanos = new long[LATENCY_WINDOW];
    private long persists;
    private long persistFailures;
    private long batches;
    private long batchedRequests;
    private long maxBatch;
    private long idsAllocated;
    /** Batch sizes of the most recent batches, for percentiles; histograms cover all of them. */
    private final int[] batchSizes = new int[LATENCY_WINDOW];
    /** Batches by size: bucket k holds sizes 2^k .. 2^(k+1)-1. */
    private final long[] batchHistogram = new long[31];
    /** Persists by latency: bucket k holds up to PERSIST_BUCKETS_MS[k] ms; the last, anything slower. */
    private final long[] persistHistogram = new long[PERSIST_BUCKETS_MS.length + 1];

    private long auditLines;
    /** Reservations of wrapped prefixes that handed out number 0, i.e. came round. */
    private long wraps;

    DaemonStats(Instant started) {
        this.started = started;
    }

    void answered(String op, Response response) {
        int i = opIndex(op);
        if (i >= 0) {
            requests[i]++;
        } else {
            otherRequests.merge(op, 1L, Long::sum);
        }
        if (response instanceof Response.Failure f) {
            errors[f.code().ordinal()]++;
        } else if (response instanceof Response.Reserved r && !r.replayed()) {
            idsAllocated += r.ids().size();
            if (r.numbers().contains(0L)) {
                wraps++; // only a wrapped sequence hands out 0
            }
        }
    }

    private static int opIndex(String op) {
        return switch (op) {
            case "archive" -> 0;
            case "hello" -> 1;
            case "init" -> 2;
            case "invalid" -> 3;
            case "peek" -> 4;
            case "ping" -> 5;
            case "reserve" -> 6;
            case "set" -> 7;
            case "stats" -> 8;
            case "validate" -> 9;
            default -> -1;
        };
    }

    void batch(int size) {
        batchSizes[(int) (batches % LATENCY_WINDOW)] = size;
        batchHistogram[31 - Integer.numberOfLeadingZeros(Math.max(1, size))]++;
        batches++;
        batchedRequests += size;
        maxBatch = Math.max(maxBatch, size);
    }

    void persisted(long nanos) {
        int bucket = 0;
        while (bucket < PERSIST_BUCKETS_MS.length && nanos > PERSIST_BUCKETS_MS[bucket] * 1e6) {
            bucket++;
        }
        persistHistogram[bucket]++;
        persistNanos[(int) (persists % LATENCY_WINDOW)] = nanos;
        persists++;
    }

    /** Lines appended to audit.log by a successful persist. */
    void audited(int lines) {
        auditLines += lines;
    }

    void persistFailed() {
        persistFailures++;
    }

    long persists() {
        return persists;
    }

    private static String ms(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    Map<String, Object> snapshot(Instant now, Connections connections, long pid, String epoch) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", pid);
        m.put("epoch", epoch);
        m.put("uptimeSeconds", Duration.between(started, now).toSeconds());
        Map<String, Long> byOp = new TreeMap<>(otherRequests);
        for (int i = 0; i < OPS.length; i++) {
            if (requests[i] > 0) {
                byOp.put(OPS[i], requests[i]);
            }
        }
        m.put("requests", byOp);
        m.put("idsAllocated", idsAllocated);
        m.put("batches", batches);
        m.put("meanBatchSize", batches == 0 ? 0.0 : (double) batchedRequests / batches);
        m.put("maxBatchSize", maxBatch);
        m.put(
                "percentileWindow",
                LATENCY_WINDOW); // the P50/P99 figures cover at most this many recent batches/persists
        int nb = (int) Math.min(batches, LATENCY_WINDOW);
        int[] sizes = Arrays.copyOf(batchSizes, nb);
        Arrays.sort(sizes);
        m.put("batchSizeP50", nb == 0 ? 0 : sizes[nb / 2]);
        m.put("batchSizeP99", nb == 0 ? 0 : sizes[Math.min(nb - 1, (int) (nb * 0.99))]);
        Map<String, Long> batchBuckets = new LinkedHashMap<>();
        for (int k = 0; k < batchHistogram.length; k++) {
            if (batchHistogram[k] > 0) {
                long low = 1L << k;
                batchBuckets.put(low == 1 ? "1" : low + "-" + (2 * low - 1), batchHistogram[k]);
            }
        }
        m.put("batchSizeHistogram", batchBuckets);
        m.put("persists", persists);
        m.put("persistFailures", persistFailures);
        int n = (int) Math.min(persists, LATENCY_WINDOW);
        long[] sorted = Arrays.copyOf(persistNanos, n);
        Arrays.sort(sorted);
        m.put("persistMillisP50", n == 0 ? 0.0 : sorted[n / 2] / 1e6);
        m.put("persistMillisP99", n == 0 ? 0.0 : sorted[Math.min(n - 1, (int) (n * 0.99))] / 1e6);
        Map<String, Long> persistBuckets = new LinkedHashMap<>();
        for (int k = 0; k < persistHistogram.length; k++) {
            if (persistHistogram[k] > 0) {
                persistBuckets.put(
                        k < PERSIST_BUCKETS_MS.length
                                ? "<=" + ms(PERSIST_BUCKETS_MS[k])
                                : ">" + ms(PERSIST_BUCKETS_MS[k - 1]),
                        persistHistogram[k]);
            }
        }
        m.put("persistMillisHistogram", persistBuckets);
        m.put("auditLines", auditLines);
        Map<String, Long> byCode = new TreeMap<>();
        for (ErrorCode code : ErrorCode.values()) {
            if (errors[code.ordinal()] > 0) {
                byCode.put(code.name(), errors[code.ordinal()]);
            }
        }
        m.put("errors", byCode);
        m.put("wraps", wraps);
        m.put("numberConflicts", errors[ErrorCode.NUMBER_CONFLICT.ordinal()]);
        m.put("connectionsOpen", connections == null ? 0 : connections.open());
        m.put("connectionsTotal", connections == null ? 0 : connections.total());
        return m;
    }
}
