package dev.taskid.allocator;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskId;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The allocation rules, applied to a {@link Ledger}: the daemon's state thread and the
 * file-lock fallback both call this, so both modes give the same answers. Never throws for
 * bad input: every refusal is a {@link Response.Failure} and leaves the ledger unchanged.
 */
public final class Allocator {
    private static final int MAX_KEY_LENGTH = 200;
    /** A NUMBER_CONFLICT lists at most this many numbers (and counts them all). */
    private static final int MAX_CONFLICTS_LISTED = 100;

    private static final java.util.regex.Pattern ZERO_ID =
            java.util.regex.Pattern.compile("([A-Z][A-Z0-9]{0,15})-0{1,15}");

    private final Rules config;
    private final Clock clock;
    private final IdScanner scanner;

    public Allocator(Rules config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.scanner = new IdScanner(config.prefixes());
    }

    /** Applies a state request (reserve, peek, validate, set, init, archive). */
    public Response apply(Ledger ledger, Request request) {
        if (request instanceof Request.Reserve r) {
            return reserve(ledger, r);
        } else if (request instanceof Request.Peek r) {
            return peek(ledger, r);
        } else if (request instanceof Request.Validate r) {
            return validate(ledger, r);
        } else if (request instanceof Request.SetCounter r) {
            return set(ledger, r);
        } else if (request instanceof Request.Init r) {
            return init(ledger, r);
        } else if (request instanceof Request.Archive r) {
            return archive(ledger, r);
        }
        throw new IllegalArgumentException("not a state request: " + request.op());
    }

    private Response reserve(Ledger ledger, Request.Reserve r) {
        Response.Failure bad = checkPrefix(r, r.prefix());
        if (bad != null) {
            return bad;
        }
        if (r.count() < 1 || r.count() > config.maxBatch()) {
            return Response.Failure.of(
                    r.id(),
                    ErrorCode.INVALID_COUNT,
                    "count must be an integer from 1 to " + config.maxBatch() + ", got " + r.count(),
                    Map.of("min", 1, "max", config.maxBatch()));
        }
        int wrap = config.wrap(r.prefix());
        if (wrap > 0 && r.count() > wrap) {
            return Response.Failure.of(
                    r.id(),
                    ErrorCode.INVALID_COUNT,
                    r.prefix() + " wraps at " + wrap + ": a reservation holds at most " + wrap + " numbers, got "
                            + r.count(),
                    Map.of("min", 1, "max", wrap));
        }
        if (r.key() != null) {
            if (r.key().isEmpty() || r.key().length() > MAX_KEY_LENGTH) {
                return Response.Failure.of(
                        r.id(), ErrorCode.BAD_REQUEST, "key must be 1 to " + MAX_KEY_LENGTH + " characters");
            }
            Ledger.KeyRecord earlier = ledger.key(r.key());
            if (earlier != null) {
                if (!earlier.prefix().equals(r.prefix()) || earlier.count() != r.count()) {
                    return Response.Failure.of(
                            r.id(),
                            ErrorCode.KEY_REUSED,
                            "key \"" + r.key() + "\" already reserved " + earlier.count() + " x " + earlier.prefix()
                                    + "; use a new key for a different request",
                            Map.of("prefix", earlier.prefix(), "count", earlier.count()));
                }
                Response.Failure reissued = wrap > 0 ? replayConflict(ledger, r, earlier, wrap) : null;
                if (reissued != null) {
                    return reissued;
                }
                return reserved(r, earlier.first(), earlier.at(), true);
            }
        }
        long previous = ledger.counter(r.prefix());
        if (wrap > 0 && previous > 0 && !ledger.activeNumbers().containsKey(r.prefix())) {
            // Loading carries the history over (StateStore.load); a ledger that skipped that must not guess.
            return Response.Failure.of(
                    r.id(),
                    ErrorCode.CONFIG_INVALID,
                    r.prefix() + " wraps at " + wrap + " but its counter is at " + previous
                            + " and which of the numbers "
                            + "handed out so far are still in use is unknown: wrapping now would hand them out again",
                    Map.of("prefix", r.prefix(), "counter", previous, "wrap", wrap));
        }
        if (r.count() > Protocol.MAX_NUMBER - previous) {
            return Response.Failure.of(
                    r.id(),
                    ErrorCode.COUNTER_OVERFLOW,
                    r.prefix() + " is at " + previous + "; " + r.count() + " more would pass the largest number "
                            + Protocol.MAX_NUMBER,
                    Map.of("counter", previous, "max", Protocol.MAX_NUMBER));
        }
        if (wrap > 0) {
            Response.Failure conflict = conflict(ledger, r, previous, wrap);
            if (conflict != null) {
                return conflict;
            }
        }
        Instant now = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        ledger.setCounter(r.prefix(), previous + r.count());
        if (wrap > 0) {
            for (long position = previous + 1; position <= previous + r.count(); position++) {
                ledger.activate(r.prefix(), Wrap.number(position, wrap), position);
            }
        } else {
            ledger.untrack(r.prefix()); // handed out without wrap: the active set no longer knows them all
        }
        if (r.key() != null) {
            ledger.putKey(new Ledger.KeyRecord(r.key(), r.prefix(), r.count(), previous + 1, now));
        }
        return reserved(r, previous + 1, now, false);
    }

    private Response.Reserved reserved(Request.Reserve r, long first, Instant at, boolean replayed) {
        int n = (int) r.count();
        int wrap = config.wrap(r.prefix());
        List<String> ids = new ArrayList<>(n);
        List<Long> numbers = new ArrayList<>(n);
        for (long k = first; k < first + n; k++) {
            long number = Wrap.number(k, wrap);
            ids.add(config.format(r.prefix(), number));
            numbers.add(number);
        }
        long last = first + n - 1;
        return new Response.Reserved(
                r.id(), r.prefix(), ids, numbers, first - 1, last, Wrap.next(last, wrap), at, replayed);
    }

    /**
     * NUMBER_CONFLICT if a number the reservation would hand out (positions previous+1 ..
     * previous+count, modulo wrap) is still active. Checked before anything changes, so a
     * conflict reserves nothing.
     */
    private Response.Failure conflict(Ledger ledger, Request.Reserve r, long previous, int wrap) {
        SortedMap<Long, Long> active = ledger.active(r.prefix());
        if (active.isEmpty()) {
            return null;
        }
        List<Long> conflicts = new ArrayList<>();
        for (long position = previous + 1; position <= previous + r.count(); position++) {
            long number = Wrap.number(position, wrap);
            if (active.containsKey(number)) {
                conflicts.add(number);
            }
        }
        if (conflicts.isEmpty()) {
            return null;
        }
        List<String> shown = new ArrayList<>();
        for (Long n : conflicts.subList(0, Math.min(conflicts.size(), MAX_CONFLICTS_LISTED))) {
            shown.add(config.format(r.prefix(), n));
        }
        String numbers = conflicts.stream()
                .limit(MAX_CONFLICTS_LISTED)
                .map(String::valueOf)
                .collect(java.util.stream.Collectors.joining(" "));
        Map<String, Object> details = new java.util.LinkedHashMap<>();
        details.put("prefix", r.prefix());
        details.put("conflicts", conflicts.subList(0, Math.min(conflicts.size(), MAX_CONFLICTS_LISTED)));
        details.put("conflictCount", conflicts.size());
        details.put("activeCount", active.size());
        details.put("wrap", wrap);
        details.put("next", Wrap.next(previous, wrap));
        details.put("suggestion", "Archive completed projects: taskid archive " + r.prefix() + " " + numbers);
        return Response.Failure.of(
                r.id(),
                ErrorCode.NUMBER_CONFLICT,
                r.prefix() + " wraps at " + wrap + " and " + conflicts.size() + " of the " + r.count()
                        + " numbers to hand out " + (conflicts.size() == 1 ? "is" : "are") + " still active: "
                        + String.join(", ", shown) + (conflicts.size() > shown.size() ? ", ..." : "")
                        + ". Nothing was reserved. Archive the finished ones, then retry: taskid archive " + r.prefix()
                        + " " + numbers + (conflicts.size() > shown.size() ? " ..." : ""),
                details);
    }

    /**
     * A replayed key must not return numbers that were archived and handed out again since:
     * those now belong to another reservation.
     */
    private Response.Failure replayConflict(Ledger ledger, Request.Reserve r, Ledger.KeyRecord earlier, int wrap) {
        SortedMap<Long, Long> active = ledger.active(r.prefix());
        List<Long> reissued = new ArrayList<>();
        for (long position = earlier.first(); position < earlier.first() + earlier.count(); position++) {
            Long holder = active.get(Wrap.number(position, wrap));
            if (holder != null && holder != position) {
                reissued.add(Wrap.number(position, wrap));
            }
        }
        if (reissued.isEmpty()) {
            return null;
        }
        return Response.Failure.of(
                r.id(),
                ErrorCode.NUMBER_CONFLICT,
                "key \"" + r.key() + "\" reserved " + r.prefix()
                        + " numbers that were archived and handed out again since ("
                        + reissued.stream()
                                .limit(MAX_CONFLICTS_LISTED)
                                .map(String::valueOf)
                                .collect(java.util.stream.Collectors.joining(", "))
                        + "); they are no longer this key's. Reserve with a new key.",
                Map.of(
                        "prefix",
                        r.prefix(),
                        "conflicts",
                        reissued.subList(0, Math.min(reissued.size(), MAX_CONFLICTS_LISTED)),
                        "key",
                        r.key()));
    }

    private Response peek(Ledger ledger, Request.Peek r) {
        TreeMap<String, Long> out = new TreeMap<>();
        if (r.prefix() != null) {
            Response.Failure bad = checkPrefix(r, r.prefix());
            if (bad != null) {
                return bad;
            }
            out.put(r.prefix(), ledger.counter(r.prefix()));
        } else {
            for (String p : config.prefixes()) {
                out.put(p, ledger.counter(p));
            }
        }
        return new Response.Counters(r.id(), out);
    }

    private Response validate(Ledger ledger, Request.Validate r) {
        List<Response.Validation.Check> checks = new ArrayList<>(r.ids().size());
        for (String text : r.ids()) {
            var parsed = parseId(text);
            String reason;
            if (parsed.isEmpty()) {
                reason = "not a task ID (expected PREFIX-NUMBER, e.g. SEC-20)";
            } else if (!config.isValidPrefix(parsed.get().prefix())) {
                reason = "unknown prefix " + parsed.get().prefix();
            } else if (config.wrap(parsed.get().prefix()) > 0) {
                reason = wrappedNotIssued(ledger, parsed.get());
            } else {
                long counter = ledger.counter(parsed.get().prefix());
                reason = parsed.get().number() <= counter
                        ? null
                        : "counter at " + config.format(parsed.get().prefix(), counter) + "; run: taskid reserve "
                                + parsed.get().prefix();
            }
            checks.add(new Response.Validation.Check(text, reason == null, reason));
        }
        return new Response.Validation(r.id(), checks);
    }

    /** Like {@link TaskId#parse}, but {@code P-000} is number 0 when P wraps (0 is a wrapped number). */
    private java.util.Optional<TaskId> parseId(String text) {
        var parsed = TaskId.parse(text);
        if (parsed.isEmpty()) {
            var m = ZERO_ID.matcher(text);
            if (m.matches() && config.wrap(m.group(1)) > 0) {
                return java.util.Optional.of(new TaskId(m.group(1), 0));
            }
        }
        return parsed;
    }

    /**
     * Why a number of a wrapped prefix was not issued, or null if it was: it is active, or
     * the sequence has passed it at least once (archived since).
     */
    private String wrappedNotIssued(Ledger ledger, TaskId id) {
        int wrap = config.wrap(id.prefix());
        long counter = ledger.counter(id.prefix());
        if (id.number() >= wrap) {
            return id.prefix() + " wraps at " + wrap + ": its numbers run from 0 to " + (wrap - 1);
        }
        if (ledger.active(id.prefix()).containsKey(id.number())
                || counter >= wrap
                || (id.number() >= 1 && id.number() <= counter)) {
            return null;
        }
        return "not handed out yet: next is " + config.format(id.prefix(), Wrap.next(counter, wrap))
                + "; run: taskid reserve " + id.prefix();
    }

    private Response set(Ledger ledger, Request.SetCounter r) {
        Response.Failure bad = checkPrefix(r, r.prefix());
        if (bad != null) {
            return bad;
        }
        if (r.value() < 0) {
            return Response.Failure.of(r.id(), ErrorCode.BAD_REQUEST, "a counter is 0 or more, got " + r.value());
        }
        if (r.value() > Protocol.MAX_NUMBER) {
            return Response.Failure.of(
                    r.id(),
                    ErrorCode.COUNTER_OVERFLOW,
                    "a counter is a number from 0 to " + Protocol.MAX_NUMBER + ", got " + r.value());
        }
        long previous = ledger.counter(r.prefix());
        if (r.value() < previous && !r.force()) {
            return Response.Failure.of(
                    r.id(),
                    ErrorCode.COUNTER_DECREASE,
                    "lowering " + r.prefix() + " from " + previous + " to " + r.value()
                            + " would hand out IDs again; pass --force (protocol: \"force\":true) to do it anyway",
                    Map.of("counter", previous));
        }
        if (r.value() != previous) {
            ledger.setCounter(r.prefix(), r.value());
            raisedWrapped(ledger, r.prefix(), previous, r.value());
        }
        return new Response.CounterSet(r.id(), r.prefix(), previous, r.value());
    }

    private Response init(Ledger ledger, Request.Init r) {
        TreeMap<String, Long> wanted = new TreeMap<>();
        int found = 0;
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, Long> e : r.floors().entrySet()) {
            if (!config.isValidPrefix(e.getKey())) {
                unknown.add(e.getKey());
            } else if (e.getValue() < 0 || e.getValue() > Protocol.MAX_NUMBER) {
                return Response.Failure.of(
                        r.id(),
                        ErrorCode.COUNTER_OVERFLOW,
                        e.getKey() + ": a counter is a number from 0 to " + Protocol.MAX_NUMBER);
            } else {
                wanted.merge(e.getKey(), e.getValue(), Math::max);
            }
        }
        if (!unknown.isEmpty()) {
            return Response.Failure.of(
                    r.id(),
                    ErrorCode.INVALID_PREFIX,
                    "unknown prefixes " + unknown + "; add them to .taskid/config.json \"extraPrefixes\"",
                    Map.of("invalid", unknown, "valid", List.copyOf(config.prefixes())));
        }
        List<CharSequence> texts = new ArrayList<>();
        if (r.text() != null) {
            texts.add(r.text());
        }
        for (CharSequence text : texts) {
            IdScanner.Found f = scanner.scan(text);
            found += f.count();
            f.highest().forEach((p, n) -> wanted.merge(p, n, Math::max));
        }
        TreeMap<String, Long> before = new TreeMap<>();
        TreeMap<String, Long> after = new TreeMap<>();
        for (Map.Entry<String, Long> e : wanted.entrySet()) {
            long current = ledger.counter(e.getKey());
            before.put(e.getKey(), current);
            if (e.getValue() > current) {
                ledger.setCounter(e.getKey(), e.getValue());
                raisedWrapped(ledger, e.getKey(), current, e.getValue());
            }
            after.put(e.getKey(), Math.max(current, e.getValue()));
        }
        return new Response.Initialized(r.id(), found, before, after);
    }

    /**
     * A wrapped counter raised from {@code from} to {@code to} without a reservation (set, init,
     * an import): the numbers of the skipped positions were handed out by someone, so they are
     * active until archived, never handed out again behind their holders' backs.
     */
    private void raisedWrapped(Ledger ledger, String prefix, long from, long to) {
        int wrap = config.wrap(prefix);
        if (wrap > 0 && to > from) {
            Wrap.carryOver(ledger, prefix, from, to, wrap);
        }
    }

    private Response archive(Ledger ledger, Request.Archive r) {
        Response.Failure bad = checkPrefix(r, r.prefix());
        if (bad != null) {
            return bad;
        }
        int wrap = config.wrap(r.prefix());
        if (wrap == 0 && (r.restore() || !ledger.activeNumbers().containsKey(r.prefix()))) {
            return Response.Failure.of(
                    r.id(),
                    ErrorCode.BAD_REQUEST,
                    r.prefix() + " does not wrap, so its numbers never repeat and none is active; to wrap it, set "
                            + "\"prefixOptions\": {\"" + r.prefix() + "\": {\"wrap\": 1000}} in .taskid/config.json",
                    Map.of("prefix", r.prefix()));
        }
        List<Long> outside = new ArrayList<>();
        for (Long n : r.numbers()) {
            if (n < 0 || (wrap > 0 && n >= wrap)) {
                outside.add(n);
            }
        }
        if (!outside.isEmpty()) {
            return Response.Failure.of(
                    r.id(),
                    ErrorCode.INVALID_ID,
                    r.prefix() + " numbers run from 0 to " + (wrap - 1) + "; not one of them: "
                            + outside.subList(0, Math.min(outside.size(), MAX_CONFLICTS_LISTED))
                            + ". Nothing was changed.",
                    Map.of(
                            "prefix",
                            r.prefix(),
                            "invalid",
                            outside.subList(0, Math.min(outside.size(), MAX_CONFLICTS_LISTED)),
                            "wrap",
                            wrap));
        }
        List<Long> changed = new ArrayList<>();
        List<Long> unchanged = new ArrayList<>();
        for (Long n : new java.util.LinkedHashSet<>(r.numbers())) {
            boolean done;
            if (r.restore()) {
                done = !ledger.active(r.prefix()).containsKey(n);
                if (done) {
                    ledger.activate(r.prefix(), n, 0); // position 0: marked by hand, not handed out
                }
            } else {
                done = ledger.deactivate(r.prefix(), n);
            }
            (done ? changed : unchanged).add(n);
        }
        return new Response.Archived(
                r.id(),
                r.prefix(),
                r.restore(),
                changed,
                unchanged,
                new ArrayList<>(ledger.active(r.prefix()).keySet()),
                wrap,
                ledger.counter(r.prefix()),
                Wrap.next(ledger.counter(r.prefix()), wrap));
    }

    private Response.Failure checkPrefix(Request r, String prefix) {
        if (config.isValidPrefix(prefix)) {
            return null;
        }
        String why = TaskId.isPrefix(prefix)
                ? "Invalid prefix \"" + prefix + "\""
                : "Invalid prefix \"" + prefix + "\" (a prefix is an upper-case letter then up to 15 of A-Z, 0-9)";
        return Response.Failure.of(
                r.id(),
                ErrorCode.INVALID_PREFIX,
                why + ". Valid: " + String.join(", ", config.prefixes()),
                Map.of("valid", List.copyOf(config.prefixes())));
    }
}
