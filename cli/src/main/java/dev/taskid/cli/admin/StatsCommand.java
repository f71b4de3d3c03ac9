package dev.taskid.cli.admin;

import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.JsonLines;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.AuditLog;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code taskid stats [--since T] [--json]}: the daemon's own figures (its {@code stats} op)
 * when one runs, and always the figures of the audit log, which covers both modes: how many
 * reservations and IDs each mode served and, for the file-lock mode, how long callers waited
 * for the lock (p50/p99/max).
 */
public final class StatsCommand {
    public static final String SYNOPSIS = "stats [--since T] [--json]";
    public static final String HELP =
            "Show what taskid has been doing. With a daemon: its uptime, requests by op, IDs allocated, batch sizes and\n"
                    + "persist latency (p50/p99, histograms), errors by code, connections. Always: from the audit log,\n"
                    + "reservations and IDs by mode and the file-lock mode's lock waits (p50/p99/max). --since limits the\n"
                    + "audit figures (2026-02-19T18:00:00Z, 2026-02-19, 30m, 2h, 7d). Never takes the state lock.";

    private StatsCommand() {
    }

    public static int run(List<String> rest, String sinceText, boolean json, TaskIds ids, PrintStream out,
                          PrintStream err) {
        Output o = new Output(out, err, json);
        if (!rest.isEmpty()) {
            return o.usage("stats takes no arguments", SYNOPSIS);
        }
        Instant since;
        try {
            since = sinceText == null ? Instant.MIN : Output.since(sinceText, Instant.now());
        } catch (IllegalArgumentException e) {
            return o.usage(e.getMessage(), SYNOPSIS);
        }
        Map<String, Object> daemon = null;
        try {
            if (ids.daemon().isPresent()) {
                // Only ask when a daemon answers: the fallback's stats would take the state lock.
                Reply reply = ids.call(new Request.Stats(null));
                if (reply.response() instanceof Response.Stats s) {
                    daemon = s.values();
                }
            }
        } catch (TaskIdException e) {
            err.println("taskid: the daemon did not give its stats: " + e.code() + ": " + e.getMessage());
        }
        Map<String, Object> audit = auditFigures(ids.stateDir().dir(), o.codec, since);
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mode", daemon != null ? "daemon" : "fallback");
            m.put("stateDir", ids.stateDir().dir().toString());
            if (daemon != null) {
                m.put("daemon", daemon);
            }
            m.put("audit", audit);
            o.object(m);
            return Output.OK;
        }
        if (daemon != null) {
            printDaemon(out, daemon);
        } else {
            out.println("no daemon is running: requests are served by the file lock (figures from the audit log)");
        }
        printAudit(out, audit, sinceText);
        return Output.OK;
    }

    /** Figures of the audit log lines at or after {@code since}. */
    static Map<String, Object> auditFigures(Path dir, JsonLines json, Instant since) {
        Map<String, Long> byOp = new TreeMap<>();
        Map<String, Long> reservations = new TreeMap<>();
        Map<String, Long> idsByMode = new TreeMap<>();
        Map<String, Long> byAgent = new TreeMap<>();
        List<Long> waits = new ArrayList<>();
        long[] count = {0};
        Instant[] span = {null, null};
        int unreadable = AuditLog.read(dir, json, l -> true, e -> {
            if (e.time().isBefore(since)) {
                return;
            }
            count[0]++;
            span[0] = span[0] == null ? e.time() : span[0];
            span[1] = e.time();
            byOp.merge(e.op(), 1L, Long::sum);
            if (e.op().equals("reserve")) {
                reservations.merge(e.by().mode(), 1L, Long::sum);
                idsByMode.merge(e.by().mode(), (long) e.ids().size(), Long::sum);
                byAgent.merge(e.agent() == null ? "(none)" : e.agent(), 1L, Long::sum);
            }
            if (e.by().lockWaitMs() >= 0) {
                waits.add(e.by().lockWaitMs());
            }
        });
        long[] w = Output.sorted(waits);
        Map<String, Object> m = new LinkedHashMap<>();
        List<Path> files = AuditLog.files(dir);
        long bytes = 0;
        for (Path f : files) {
            try {
                bytes += Files.size(f);
            } catch (java.io.IOException e) {
                // rotated away meanwhile
            }
        }
        m.put("files", files.size());
        m.put("bytes", bytes);
        m.put("lines", count[0]);
        if (unreadable > 0) {
            m.put("unreadableLines", unreadable);
        }
        m.put("first", span[0] == null ? null : JsonLines.timestamp(span[0]));
        m.put("last", span[1] == null ? null : JsonLines.timestamp(span[1]));
        m.put("changesByOp", byOp);
        m.put("reservationsByMode", reservations);
        m.put("idsByMode", idsByMode);
        m.put("reservationsByAgent", byAgent);
        Map<String, Object> lock = new LinkedHashMap<>();
        lock.put("samples", w.length);
        lock.put("p50", Output.percentile(w, 0.5));
        lock.put("p99", Output.percentile(w, 0.99));
        lock.put("max", w.length == 0 ? 0 : w[w.length - 1]);
        m.put("fallbackLockWaitMs", lock);
        return m;
    }

    private static void printDaemon(PrintStream out, Map<String, Object> s) {
        long up = num(s.get("uptimeSeconds"));
        out.printf("daemon pid %s, up %dh %02dm %02ds, epoch %s%n", s.get("pid"), up / 3600, up / 60 % 60, up % 60,
                s.get("epoch"));
        out.println("  requests:     " + s.get("requests"));
        out.println("  IDs allocated " + s.get("idsAllocated"));
        out.printf("  batches:      %s (size mean %.2f, p50 %s, p99 %s, max %s) %s%n", s.get("batches"),
                ((Number) s.getOrDefault("meanBatchSize", 0.0)).doubleValue(), s.get("batchSizeP50"),
                s.get("batchSizeP99"), s.get("maxBatchSize"), orEmpty(s.get("batchSizeHistogram")));
        out.printf("  persists:     %s, failed %s, latency p50 %s ms, p99 %s ms %s%n", s.get("persists"),
                s.get("persistFailures"), s.get("persistMillisP50"), s.get("persistMillisP99"),
                orEmpty(s.get("persistMillisHistogram")));
        out.println("  errors:       " + s.get("errors"));
        if (s.containsKey("wraps") || s.containsKey("numberConflicts")) {
            out.println("  wraps:        " + orZero(s.get("wraps")) + ", number conflicts " + orZero(s.get("numberConflicts")));
        }
        out.println("  connections:  " + s.get("connectionsOpen") + " open, " + s.get("connectionsTotal") + " total");
    }

    @SuppressWarnings("unchecked")
    private static void printAudit(PrintStream out, Map<String, Object> a, String since) {
        out.println("audit log" + (since == null ? "" : " since " + since) + ": " + a.get("lines") + " changes in "
                + a.get("files") + " file(s), " + a.get("bytes") + " bytes"
                + (a.get("first") == null ? "" : ", " + a.get("first") + " .. " + a.get("last")));
        out.println("  changes:      " + a.get("changesByOp"));
        out.println("  reservations: " + a.get("reservationsByMode") + ", IDs " + a.get("idsByMode"));
        out.println("  by agent:     " + a.get("reservationsByAgent"));
        Map<String, Object> lock = (Map<String, Object>) a.get("fallbackLockWaitMs");
        out.println("  file-lock waits: " + lock.get("samples") + " samples, p50 " + lock.get("p50") + " ms, p99 "
                + lock.get("p99") + " ms, max " + lock.get("max") + " ms");
        if (a.containsKey("unreadableLines")) {
            out.println("  unreadable lines: " + a.get("unreadableLines"));
        }
    }

    private static long num(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }

    private static Object orZero(Object o) {
        return o == null ? 0 : o;
    }

    private static String orEmpty(Object o) {
        return o == null ? "" : o.toString();
    }

    /** Exposed for the error path of callers that need a code. */
    static ErrorCode unavailable() {
        return ErrorCode.DAEMON_UNAVAILABLE;
    }
}
