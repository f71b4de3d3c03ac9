package dev.taskid.cli.admin;

import dev.taskid.backend.AuditTrail;
import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Output;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.json.Timestamps;
import dev.taskid.options.Option;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import java.io.PrintStream;
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
public final class StatsCommand implements Command {
    private static final String SYNOPSIS = "stats [--since T] [--json] | stats --watch [--interval SECONDS] [--json]";
    private static final String HELP =
            "Show what taskid has been doing. With a daemon: its uptime, requests by op, IDs allocated, batch sizes and\n"
                    + "persist latency (p50/p99, histograms), errors by code, connections. Always: from the audit log,\n"
                    + "reservations and IDs by mode and the file-lock mode's lock waits (p50/p99/max). --since limits the\n"
                    + "audit figures (2026-02-19T18:00:00Z, 2026-02-19, 30m, 2h, 7d). Never takes the state lock. With a shared\n"
                    + "backend: the figures of its audit rows, every host's.\n"
                    + "--watch: a live view, refreshed every --interval seconds (default 2): per-prefix counters, reservations\n"
                    + "and IDs per second, persist latency, connected clients; q or Ctrl-C quits. With --json: one line per refresh.";

    private static final Spec SPEC = new Spec(
            "stats",
            SYNOPSIS,
            HELP,
            List.of(
                    Option.valued(
                            "--since",
                            "T",
                            "audit figures since T: 2026-02-19T18:00:00Z, 2026-02-19 or an age (30m, 2h, 7d)"),
                    Option.flag("--watch", "a live view until q or Ctrl-C"),
                    Option.valued(
                            "--interval", "SECONDS", "--watch: seconds between refreshes, 0.2 to 3600 (default 2)")));

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        List<String> rest = c.rest();
        String sinceText = c.option("--since");
        boolean json = c.json();
        TaskIds ids = c.ids();
        PrintStream out = c.out();
        PrintStream err = c.err();
        Output o = c.output();
        if (!rest.isEmpty()) {
            throw new UsageException("stats takes no arguments", SYNOPSIS);
        }
        if (c.flag("--watch")) {
            if (sinceText != null) {
                throw new UsageException(
                        "--since does not go with --watch (the view shows what happens now)", SYNOPSIS);
            }
            return new StatsWatch(c, StatsWatch.interval(c.option("--interval"))).run();
        }
        if (c.option("--interval") != null) {
            throw new UsageException("--interval goes with --watch", SYNOPSIS);
        }
        Instant since;
        try {
            since = sinceText == null ? Instant.MIN : Figures.since(sinceText, Instant.now());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), SYNOPSIS);
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
        Map<String, Object> audit;
        try (AuditTrail trail = AuditTrail.open(ids.stateDir(), c.env(), o.codec())) { // shared rows with a backend
            audit = auditFigures(trail, since);
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mode", daemon != null ? "daemon" : audit.containsKey("backend") ? "backend" : "fallback");
            m.put("stateDir", ids.stateDir().dir().toString());
            if (daemon != null) {
                m.put("daemon", daemon);
            }
            m.put("audit", audit);
            o.object(m);
            return Context.OK;
        }
        if (daemon == null) {
            out.println(
                    audit.containsKey("backend")
                            ? "no daemon is running: requests go to the shared backend directly (figures from its audit rows)"
                            : "no daemon is running: requests are served by the file lock (figures from the audit log)");
        }
        text(daemon, audit, sinceText).forEach(out::println);
        return Context.OK;
    }

    /** Figures of the audit log lines at or after {@code since}. */
    static Map<String, Object> auditFigures(AuditTrail trail, Instant since) {
        Map<String, Long> byOp = new TreeMap<>();
        Map<String, Long> reservations = new TreeMap<>();
        Map<String, Long> idsByMode = new TreeMap<>();
        Map<String, Long> byAgent = new TreeMap<>();
        List<Long> waits = new ArrayList<>();
        long[] count = {0};
        Instant[] span = {null, null};
        int unreadable = trail.read(l -> true, e -> {
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
        long[] w = Figures.sorted(waits);
        Map<String, Object> m = new LinkedHashMap<>(trail.where());
        m.put("lines", count[0]);
        if (unreadable > 0) {
            m.put("unreadableLines", unreadable);
        }
        m.put("first", span[0] == null ? null : Timestamps.format(span[0]));
        m.put("last", span[1] == null ? null : Timestamps.format(span[1]));
        m.put("changesByOp", byOp);
        m.put("reservationsByMode", reservations);
        m.put("idsByMode", idsByMode);
        m.put("reservationsByAgent", byAgent);
        Map<String, Object> lock = new LinkedHashMap<>();
        lock.put("samples", w.length);
        lock.put("p50", Figures.percentile(w, 0.5));
        lock.put("p99", Figures.percentile(w, 0.99));
        lock.put("max", w.length == 0 ? 0 : w[w.length - 1]);
        m.put("fallbackLockWaitMs", lock);
        return m;
    }

    /** Percentiles cover at most this many recent batches/persists when the daemon does not say (older daemons). */
    private static final long DEFAULT_PERCENTILE_WINDOW = 4096;

    /**
     * The figures for people: aligned {@code key: value} lines in human units, and every key
     * says the window its figure covers (since the daemon started, its last N batches, or the
     * audit log's span).
     */
    static List<String> text(Map<String, Object> daemon, Map<String, Object> audit, String since) {
        List<String[]> rows = new ArrayList<>();
        if (daemon != null) {
            daemonRows(daemon, rows);
        }
        auditRows(audit, since, rows);
        int width = rows.stream().mapToInt(r -> r[0].length()).max().orElse(0) + 1;
        List<String> lines = new ArrayList<>();
        for (String[] r : rows) {
            lines.add(String.format("%-" + width + "s %s", r[0] + ":", r[1]));
        }
        return lines;
    }

    private static void daemonRows(Map<String, Object> s, List<String[]> rows) {
        long up = num(s.get("uptimeSeconds"));
        long batches = num(s.get("batches"));
        long persists = num(s.get("persists"));
        long window = s.containsKey("percentileWindow") ? num(s.get("percentileWindow")) : DEFAULT_PERCENTILE_WINDOW;
        rows.add(row("daemon", "pid " + s.get("pid") + ", up " + duration(up) + ", epoch " + s.get("epoch")));
        rows.add(row("requests since start", counts(s.get("requests"))));
        rows.add(row("IDs allocated since start", Long.toString(num(s.get("idsAllocated")))));
        rows.add(row(
                "batches since start",
                batches
                        + (batches == 0
                                ? ""
                                : String.format(
                                        " (mean size %.1f, max %d)",
                                        dbl(s.get("meanBatchSize")), num(s.get("maxBatchSize"))))));
        rows.add(row("batch sizes since start", histogram(s.get("batchSizeHistogram"), "")));
        rows.add(row(
                "batch size, last " + Math.min(batches, window) + " batches",
                "p50 " + num(s.get("batchSizeP50")) + ", p99 " + num(s.get("batchSizeP99"))));
        rows.add(row("persists since start", persists + ", " + num(s.get("persistFailures")) + " failed"));
        rows.add(row(
                "persist time, last " + Math.min(persists, window) + " persists",
                "p50 " + millis(dbl(s.get("persistMillisP50"))) + ", p99 " + millis(dbl(s.get("persistMillisP99")))));
        rows.add(row("persist times since start", histogram(s.get("persistMillisHistogram"), " ms")));
        rows.add(row("errors since start", counts(s.get("errors"))));
        if (s.containsKey("wraps") || s.containsKey("numberConflicts")) {
            rows.add(row(
                    "wraps since start", num(s.get("wraps")) + ", number conflicts " + num(s.get("numberConflicts"))));
        }
        rows.add(row(
                "connections",
                num(s.get("connectionsOpen")) + " open, " + num(s.get("connectionsTotal")) + " since start"));
    }

    @SuppressWarnings("unchecked")
    private static void auditRows(Map<String, Object> a, String since, List<String[]> rows) {
        String window = since == null ? "in the audit log" : "since " + since;
        rows.add(row(
                "audit log",
                a.get("lines") + " changes in "
                        + (a.containsKey("backend")
                                ? "the shared backend " + a.get("backend") + " (project " + a.get("project") + ")"
                                : a.get("files") + " file(s), " + bytes(num(a.get("bytes"))))
                        + (a.get("first") == null ? "" : ", " + a.get("first") + " .. " + a.get("last"))));
        rows.add(row("changes " + window, counts(a.get("changesByOp"))));
        rows.add(row("reservations " + window, counts(a.get("reservationsByMode"))));
        rows.add(row("IDs reserved " + window, counts(a.get("idsByMode"))));
        rows.add(row("reservations by agent " + window, counts(a.get("reservationsByAgent"))));
        Map<String, Object> lock = (Map<String, Object>) a.get("fallbackLockWaitMs");
        rows.add(row(
                "file-lock waits " + window,
                num(lock.get("samples")) + " samples, p50 " + millis(num(lock.get("p50"))) + ", p99 "
                        + millis(num(lock.get("p99"))) + ", max " + millis(num(lock.get("max")))));
        if (a.containsKey("unreadableLines")) {
            rows.add(row("unreadable audit lines", Long.toString(num(a.get("unreadableLines")))));
        }
    }

    private static String[] row(String key, String value) {
        return new String[] {key, value};
    }

    /** {@code {create=2, reserve=6}} as {@code create 2, reserve 6}; empty as "none". */
    private static String counts(Object o) {
        if (!(o instanceof Map<?, ?> m) || m.isEmpty()) {
            return "none";
        }
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) ->
                b.append(b.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
        return b.toString();
    }

    /** A histogram {@code {"<=0.5":3, ">1000":1}} as {@code ≤0.5 ms: 3, >1000 ms: 1}. */
    private static String histogram(Object o, String unit) {
        if (!(o instanceof Map<?, ?> m) || m.isEmpty()) {
            return "none";
        }
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ")
                .append(String.valueOf(k).replace("<=", "≤"))
                .append(unit)
                .append(": ")
                .append(v));
        return b.toString();
    }

    static String millis(double ms) {
        if (ms >= 1000) {
            return String.format("%.2f s", ms / 1000);
        }
        if (ms >= 100 || ms == Math.rint(ms)) {
            return String.format("%.0f ms", ms);
        }
        return String.format(ms >= 10 ? "%.1f ms" : "%.2f ms", ms);
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        return n < 1024 * 1024 ? String.format("%.1f KiB", n / 1024.0) : String.format("%.1f MiB", n / (1024.0 * 1024));
    }

    static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format("%dm %02ds", seconds / 60, seconds % 60);
        }
        return String.format("%dh %02dm %02ds", seconds / 3600, seconds / 60 % 60, seconds % 60);
    }

    private static long num(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }

    private static double dbl(Object o) {
        return o instanceof Number n ? n.doubleValue() : 0;
    }
}
