package dev.taskid.state;

import dev.taskid.allocator.Ledger;
import dev.taskid.allocator.Wrap;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Rebuilds the active numbers of wrapped prefixes from the audit log, for a counters.json that
 * is rebuilt (missing, or {@code taskid recover}): counters.json.prev only knows them as of the
 * daemon's last start. Replays every line in order: a reservation activates the numbers of its
 * IDs, archive/restore deactivate/activate their numbers, a {@code wrap} line activates the
 * numbers it carried over, and a counter moved any other way (set, init, create, recover, or a
 * batch whose line a crash lost between the counters write and the append) activates the
 * numbers of the positions it skipped, as {@link Wrap#carryOver} does.
 *
 * <p>Refused when the log cannot tell: a line is unreadable (torn: it may have been a restore),
 * or a prefix's history does not start at 0 in the log (rotated away). Then
 * {@code taskid recover --all-active} marks every number handed out active instead.
 */
final class ActiveReplay {
    private final Config config;

    ActiveReplay(Config config) {
        this.config = config;
    }

    /** One wrapped prefix as replayed so far. */
    private static final class Prefix {
        final TreeMap<Long, Long> active = new TreeMap<>();
        long last = -1; // the counter after the last line; -1 before the first
        String problem;
    }

    /**
     * The active numbers of every wrapped prefix whose counter (in {@code counters}) is above 0,
     * or STATE_CORRUPT saying why the log cannot rebuild them.
     */
    Map<String, Map<Long, Long>> rebuild(Path dir, Json json, Map<String, Long> counters) {
        Map<String, Prefix> prefixes = new TreeMap<>();
        counters.forEach((p, c) -> {
            if (config.wrap(p) > 0 && c > 0) {
                prefixes.put(p, new Prefix());
            }
        });
        if (prefixes.isEmpty()) {
            return Map.of();
        }
        int unreadable = AuditReader.read(dir, json, l -> true, e -> {
            Prefix p = e.prefix() == null ? null : prefixes.get(e.prefix());
            if (p != null && p.problem == null) {
                apply(e, p, config.wrap(e.prefix()));
            }
        });
        Map<String, Map<Long, Long>> out = new TreeMap<>();
        Map<String, String> problems = new LinkedHashMap<>();
        for (Map.Entry<String, Prefix> e : prefixes.entrySet()) {
            Prefix p = e.getValue();
            long counter = counters.get(e.getKey());
            int wrap = config.wrap(e.getKey());
            if (unreadable > 0) {
                p.problem = unreadable + " unreadable line(s) in the audit log (torn by a crash?)";
            } else if (p.last < 0) {
                p.problem = "no line of it in the audit log (rotated away?)";
            }
            if (p.problem != null) {
                problems.put(e.getKey(), p.problem);
                continue;
            }
            carry(p, p.last, counter, wrap); // positions handed out after the last line
            out.put(e.getKey(), p.active);
        }
        if (!problems.isEmpty()) {
            StringBuilder why = new StringBuilder();
            problems.forEach((prefix, problem) -> why.append(why.length() == 0 ? "" : "; ")
                    .append(prefix)
                    .append(": ")
                    .append(problem));
            throw new TaskIdException(
                    ErrorCode.STATE_CORRUPT,
                    "the audit log cannot rebuild which numbers of wrapped "
                            + "prefixes are still in use (" + why
                            + "), and counters.json.prev may be older than the last ones "
                            + "handed out. Nothing was written. Run `taskid recover --all-active --yes`: it marks every number "
                            + "those prefixes handed out active (archive the finished ones after), so none comes round again.",
                    Map.of("incomplete", problems),
                    null);
        }
        return out;
    }

    /** Every number {@code counters}' wrapped prefixes handed out, as active: when the log cannot tell. */
    Map<String, Map<Long, Long>> allActive(Map<String, Long> counters) {
        Map<String, Map<Long, Long>> out = new TreeMap<>();
        counters.forEach((prefix, counter) -> {
            int wrap = config.wrap(prefix);
            if (wrap > 0 && counter > 0) {
                Ledger l = new Ledger();
                Wrap.carryOver(l, prefix, 0, counter, wrap);
                out.put(prefix, new TreeMap<>(l.active(prefix)));
            }
        });
        return out;
    }

    private static void apply(AuditEntry e, Prefix p, int wrap) {
        switch (e.op()) {
            case "archive" -> e.numbers().forEach(p.active::remove);
            case "restore" -> e.numbers().forEach(n -> p.active.put(n, 0L));
            case "wrap" -> {
                e.numbers().forEach(n -> p.active.putIfAbsent(n, 0L));
                p.last = Math.max(p.last, e.to());
            }
            default -> {
                if (e.from() < 0 || e.to() < 0) {
                    return;
                }
                if (p.last < 0) {
                    if (e.from() != 0 && !"create".equals(e.op())) {
                        p.problem = "its first line in the audit log starts at " + e.from() + ", not 0 (rotated away?)";
                        return;
                    }
                    p.last = 0;
                }
                carry(p, p.last, e.from(), wrap); // a batch whose line was lost: its numbers may be out
                if ("reserve".equals(e.op())) {
                    for (String id : e.ids()) {
                        long n = number(id);
                        if (n >= 0 && n < wrap) {
                            p.active.put(n, e.to());
                        }
                    }
                } else {
                    carry(p, Math.max(p.last, e.from()), e.to(), wrap); // set, init, create, recover: skipped positions
                }
                p.last = e.to(); // a forced lowering follows the counter down
            }
        }
    }

    /** Marks the numbers of positions {@code from+1..to} active (at most {@code wrap} of them). */
    private static void carry(Prefix p, long from, long to, int wrap) {
        for (long position = Math.max(from + 1, to - wrap + 1); position <= to; position++) {
            p.active.putIfAbsent(Wrap.number(position, wrap), position);
        }
    }

    /** The number at the end of an ID ({@code PROJECT-042}, bare {@code 042}); -1 if none. */
    private static long number(String id) {
        int i = id.length();
        while (i > 0 && Character.isDigit(id.charAt(i - 1))) {
            i--;
        }
        if (i == id.length() || id.length() - i > 15) {
            return -1;
        }
        return Long.parseLong(id.substring(i));
    }
}
