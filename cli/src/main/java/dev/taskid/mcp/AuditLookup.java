package dev.taskid.mcp;

import dev.taskid.backend.AuditTrail;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.json.Timestamps;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskId;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.AuditEntry;
import dev.taskid.state.AuditReader;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * "Who reserved SEC-20, when and why": task IDs, ranges and prefixes looked up in the audit log
 * (the MCP tool {@code lookup_task_ids}). One pass over the log files, read as {@code taskid log}
 * reads them (no lock: lines are appended whole, a torn one is skipped); each query keeps only
 * its latest {@code limit} entries, so memory and output stay bounded however long the log is.
 * The only user of the audit log's reading API in this package.
 */
final class AuditLookup {
    /** Ranges up to this many numbers are looked for in the raw text of reservations before parsing them. */
    private static final long FEW = 64;
    /** An entry lists at most this many of its IDs (a reservation may hold a thousand); the rest are counted. */
    static final int MAX_IDS_PER_ENTRY = 20;

    /** How an entry concerns a query. */
    enum Match {
        /** A reservation that handed out a queried number. */
        RESERVED("reserved"),
        /** Another change naming a queried number (archive, restore). */
        NAMED("named"),
        /** A change that moved the counter past queried numbers without naming them (set, init, import, recover). */
        PASSED("passed"),
        /** Any entry of a queried prefix. */
        PREFIX("prefix");

        final String wire;

        Match(String wire) {
            this.wire = wire;
        }
    }

    /** Numbers {@code from..to} of {@code prefix}; a whole prefix when {@code wholePrefix}. */
    record Query(String text, String prefix, long from, long to, boolean wholePrefix) {
        /** {@code SEC}, {@code SEC-20}, {@code SEC-20..SEC-25} or {@code SEC-20..25}; INVALID_ID otherwise. */
        static Query parse(String text) {
            String t = text.trim();
            if (TaskId.isPrefix(t)) {
                return new Query(text, t, 0, Long.MAX_VALUE, true);
            }
            int dots = t.indexOf("..");
            TaskId first = TaskId.parse(dots < 0 ? t : t.substring(0, dots)).orElseThrow(() -> invalid(text));
            long last = first.number();
            if (dots >= 0) {
                String end = t.substring(dots + 2);
                TaskId to = end.chars().allMatch(Character::isDigit) && !end.isEmpty()
                        ? TaskId.parse(first.prefix() + "-" + end).orElseThrow(() -> invalid(text))
                        : TaskId.parse(end).orElseThrow(() -> invalid(text));
                if (!to.prefix().equals(first.prefix()) || to.number() < first.number()) {
                    throw invalid(text);
                }
                last = to.number();
            }
            return new Query(text, first.prefix(), first.number(), last, false);
        }

        /**
         * A cheap test on the raw line, before it is parsed: false only when it cannot concern
         * this query (another prefix, or a reservation whose text holds none of a few queried
         * numbers). Anything unexpected in the text passes, to be matched exactly after parsing.
         */
        boolean mayConcern(String line) {
            if (!line.contains("\"prefix\":\"" + prefix + "\"")) {
                return false;
            }
            if (wholePrefix || to - from >= FEW || !line.contains("\"op\":\"reserve\"")) {
                return true;
            }
            for (long n = from; n <= to; n++) {
                if (line.contains(Long.toString(n))) {
                    return true;
                }
            }
            return false;
        }

        private static TaskIdException invalid(String text) {
            return new TaskIdException(
                    ErrorCode.INVALID_ID,
                    "Invalid query \"" + text + "\": expected a prefix (SEC), a task ID"
                            + " (SEC-20) or a range of one prefix (SEC-20..SEC-25, SEC-20..25)",
                    Map.of("query", text),
                    null);
        }

        /** How {@code e} concerns this query, or null. */
        Match match(AuditEntry e) {
            if (!prefix.equals(e.prefix())) {
                return null;
            }
            if (wholePrefix) {
                return Match.PREFIX;
            }
            for (long n : e.numbers()) {
                if (from <= n && n <= to) {
                    return e.op().equals("reserve") ? Match.RESERVED : Match.NAMED;
                }
            }
            for (String id : e.ids()) {
                var parsed = TaskId.parse(id);
                if (parsed.isPresent()
                        && from <= parsed.get().number()
                        && parsed.get().number() <= to) {
                    return e.op().equals("reserve") ? Match.RESERVED : Match.NAMED;
                }
            }
            // The counter moved from e.from() to e.to(): numbers (from, to] were passed over.
            boolean passed = e.from() >= 0 && e.to() > e.from() && e.from() < to && e.to() >= from;
            return passed && !e.op().equals("reserve") ? Match.PASSED : null;
        }
    }

    /** What one query found: the latest {@code limit} entries, and how many matched in all. */
    private static final class Found {
        final Query query;
        final Deque<AuditEntry> latest = new ArrayDeque<>();
        final Deque<Match> matches = new ArrayDeque<>();
        long matched;

        Found(Query query) {
            this.query = query;
        }
    }

    private final Path dir;
    private final Supplier<AuditTrail> trails;
    private final Json json = new Json();

    /**
     * {@code dir}: the state directory, where audit.log and its rotated files are; {@code trails}
     * opens what is read: that log, or the shared backend's audit rows when one is configured
     * (every host's reservations, as {@code taskid log} reads them).
     */
    AuditLookup(Path dir, Supplier<AuditTrail> trails) {
        this.dir = dir;
        this.trails = trails;
    }

    /** The answer of {@code lookup_task_ids}, with at most {@code limit} entries per query. */
    Map<String, Object> lookup(List<Query> queries, int limit) {
        List<Found> found = queries.stream().map(Found::new).toList();
        Instant[] first = {null};
        int unreadable;
        Map<String, Object> where;
        try (AuditTrail trail = trails.get()) {
            where = trail.where();
            unreadable = trail.read(line -> queries.stream().anyMatch(q -> q.mayConcern(line)), e -> {
                if (first[0] == null) {
                    first[0] = e.time();
                }
                for (Found f : found) {
                    Match m = f.query.match(e);
                    if (m != null) {
                        f.matched++;
                        f.latest.addLast(e);
                        f.matches.addLast(m);
                        if (f.latest.size() > limit) {
                            f.latest.removeFirst();
                            f.matches.removeFirst();
                        }
                    }
                }
            });
        } catch (TaskIdException e) {
            if (e.getCause() instanceof AccessDeniedException denied) {
                throw new TaskIdException(
                        ErrorCode.SYSTEM_ERROR,
                        "cannot read the audit log in " + dir + ": permission denied on "
                                + denied.getFile()
                                + ". Only the state directory's owner can read it (its other users reach the"
                                + " daemon's socket, not its files): ask them, or run `taskid log` as that user",
                        Map.of("file", String.valueOf(denied.getFile())),
                        e);
            }
            throw e;
        }
        List<Object> results = new ArrayList<>();
        for (Found f : found) {
            List<Object> entries = new ArrayList<>();
            var matches = f.matches.iterator();
            for (AuditEntry e : f.latest) {
                entries.add(fields(e, matches.next()));
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("query", f.query.text());
            r.put("prefix", f.query.prefix());
            if (!f.query.wholePrefix()) {
                r.put("from", f.query.from());
                r.put("to", f.query.to());
            }
            r.put("matched", f.matched);
            r.put("truncated", f.matched > f.latest.size());
            r.put("entries", entries);
            results.add(r);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("results", results);
        boolean shared = where.containsKey("backend");
        out.put(
                "files",
                shared
                        ? List.of()
                        : AuditReader.files(dir).stream().map(Path::toString).toList());
        if (shared) {
            out.put("backend", where.get("backend") + " (project " + where.get("project") + ")");
        }
        if (first[0] != null) {
            out.put("firstEntry", Timestamps.format(first[0]));
        }
        out.put("unreadableLines", (long) unreadable);
        return out;
    }

    /** The fields of {@code taskid log --json} for {@code e}, its match, and its lists cut to {@link #MAX_IDS_PER_ENTRY}. */
    private Map<String, Object> fields(AuditEntry e, Match match) {
        Map<String, Object> m;
        byte[] line = e.toJson(json);
        try {
            m = json.readObject(line, 0, line.length);
        } catch (JsonException impossible) {
            throw new IllegalStateException("the audit log's own JSON does not parse", impossible);
        }
        cut(m, "ids", e.ids());
        cut(m, "numbers", e.numbers());
        m.put("match", match.wire);
        return m;
    }

    /** Keeps the first {@link #MAX_IDS_PER_ENTRY} items of a long list, and says how many were left out. */
    private static void cut(Map<String, Object> m, String field, List<?> list) {
        if (list.size() > MAX_IDS_PER_ENTRY) {
            m.put(field, list.subList(0, MAX_IDS_PER_ENTRY));
            m.put(field + "Omitted", (long) (list.size() - MAX_IDS_PER_ENTRY));
        }
    }
}
