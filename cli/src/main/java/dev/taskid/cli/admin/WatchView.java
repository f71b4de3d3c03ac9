package dev.taskid.cli.admin;

import dev.taskid.json.Timestamps;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** What {@code stats --watch} shows: one refresh's figures, and rates from the refresh before. */
final class WatchView {
    private WatchView() {}

    /** One refresh: {@code daemon} is the daemon's stats op, null when no daemon answered. */
    record Snapshot(Instant time, long nanos, String stateDir, Map<String, Long> counters, Map<String, Object> daemon) {
        Snapshot {
            counters = Map.copyOf(counters);
        }

        long total() {
            return counters.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * The screen: a header, the daemon's figures or that there is none, then one line per prefix
     * with what it moved since the view started (rates are over the last refresh).
     */
    static List<String> lines(Snapshot start, Snapshot previous, Snapshot now, Duration interval, boolean keys) {
        List<String> lines = new ArrayList<>();
        lines.add("taskid stats --watch: every " + seconds(interval.toMillis() / 1000.0) + ", "
                + Timestamps.format(now.time()) + (keys ? "   (q or Ctrl-C: quit)" : "   (Ctrl-C: quit)"));
        lines.add(row("state", now.stateDir()));
        Map<String, Object> d = now.daemon();
        String window = previous == null ? null : "last " + seconds(elapsed(previous, now));
        if (d == null) {
            lines.add(row("daemon", "no daemon is running: counters from counters.json (file-lock mode)"));
        } else {
            long window1 = num(d.get("percentileWindow"));
            lines.add(row(
                    "daemon", "pid " + d.get("pid") + ", up " + StatsCommand.duration(num(d.get("uptimeSeconds")))));
            Double reservations = reservationsPerSecond(previous, now);
            lines.add(row("reservations/s", reservations == null ? "-" : rate(reservations) + " (" + window + ")"));
            lines.add(row(
                    "persist time",
                    "p50 " + StatsCommand.millis(dbl(d.get("persistMillisP50"))) + ", p99 "
                            + StatsCommand.millis(dbl(d.get("persistMillisP99"))) + " (last "
                            + Math.min(num(d.get("persists")), window1 == 0 ? 4096 : window1) + " persists)"));
            lines.add(row(
                    "clients",
                    num(d.get("connectionsOpen")) + " connected, " + num(d.get("connectionsTotal")) + " since start"));
        }
        lines.add(row("IDs/s", previous == null ? "-" : rate(idsPerSecond(previous, now)) + " (" + window + ")"));
        lines.add("");
        lines.add(String.format(
                "%-16s %10s %s",
                "prefix", "counter", start == null ? "" : "  since " + Timestamps.format(start.time())));
        if (now.counters().isEmpty()) {
            lines.add("(no counters yet)");
        }
        now.counters().forEach((prefix, value) -> {
            long before = start == null ? value : start.counters().getOrDefault(prefix, 0L);
            lines.add(String.format(
                    "%-16s %10d %s", prefix, value, value == before ? "" : String.format("  %+d", value - before)));
        });
        return lines;
    }

    /** The same figures as one JSON object, for {@code --watch --json}. */
    static Map<String, Object> fields(Snapshot previous, Snapshot now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("time", Timestamps.format(now.time()));
        m.put("stateDir", now.stateDir());
        m.put("mode", now.daemon() != null ? "daemon" : "fallback");
        m.put("counters", now.counters());
        m.put("idsPerSecond", previous == null ? null : idsPerSecond(previous, now));
        m.put("reservationsPerSecond", reservationsPerSecond(previous, now));
        if (now.daemon() != null) {
            m.put("daemon", now.daemon());
        }
        return m;
    }

    private static double elapsed(Snapshot previous, Snapshot now) {
        return Math.max(1e-3, (now.nanos() - previous.nanos()) / 1e9);
    }

    /** IDs handed out per second between two refreshes (a lowered counter counts as none). */
    static double idsPerSecond(Snapshot previous, Snapshot now) {
        return Math.max(0, now.total() - previous.total()) / elapsed(previous, now);
    }

    /** Reserve requests per second, when the same daemon answered both refreshes. */
    static Double reservationsPerSecond(Snapshot previous, Snapshot now) {
        if (previous == null
                || previous.daemon() == null
                || now.daemon() == null
                || !Objects.equals(previous.daemon().get("pid"), now.daemon().get("pid"))) {
            return null;
        }
        return Math.max(0, reserves(now.daemon()) - reserves(previous.daemon())) / elapsed(previous, now);
    }

    private static long reserves(Map<String, Object> daemon) {
        return daemon.get("requests") instanceof Map<?, ?> m ? num(m.get("reserve")) : 0;
    }

    private static String row(String key, String value) {
        return String.format("%-16s %s", key + ":", value);
    }

    private static String rate(double perSecond) {
        return String.format("%.1f", perSecond);
    }

    private static String seconds(double s) {
        return s == Math.rint(s) ? String.format("%.0f s", s) : String.format("%.1f s", s);
    }

    private static long num(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }

    private static double dbl(Object o) {
        return o instanceof Number n ? n.doubleValue() : 0;
    }
}
