package dev.taskid.allocator;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskId;
import dev.taskid.state.Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The allocation rules, applied to a {@link Ledger}: the daemon's state thread and the
 * file-lock fallback both call this, so both modes give the same answers. Never throws for
 * bad input: every refusal is a {@link Response.Failure} and leaves the ledger unchanged.
 */
public final class Allocator {
    private static final int MAX_KEY_LENGTH = 200;
    private static final long MAX_INIT_FILE_BYTES = 16L << 20;

    private final Config config;
    private final Clock clock;
    private final IdScanner scanner;

    public Allocator(Config config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.scanner = new IdScanner(config.prefixes());
    }

    public Config config() {
        return config;
    }

    /** Applies a state request (reserve, peek, validate, set, init). */
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
        }
        throw new IllegalArgumentException("not a state request: " + request.op());
    }

    private Response reserve(Ledger ledger, Request.Reserve r) {
        Response.Failure bad = checkPrefix(r, r.prefix());
        if (bad != null) {
            return bad;
        }
        if (r.count() < 1 || r.count() > config.maxBatch()) {
            return Response.Failure.of(r.id(), ErrorCode.INVALID_COUNT,
                    "count must be an integer from 1 to " + config.maxBatch() + ", got " + r.count(),
                    Map.of("min", 1, "max", config.maxBatch()));
        }
        if (r.key() != null) {
            if (r.key().isEmpty() || r.key().length() > MAX_KEY_LENGTH) {
                return Response.Failure.of(r.id(), ErrorCode.BAD_REQUEST,
                        "key must be 1 to " + MAX_KEY_LENGTH + " characters");
            }
            Ledger.KeyRecord earlier = ledger.key(r.key());
            if (earlier != null) {
                if (!earlier.prefix().equals(r.prefix()) || earlier.count() != r.count()) {
                    return Response.Failure.of(r.id(), ErrorCode.KEY_REUSED,
                            "key \"" + r.key() + "\" already reserved " + earlier.count() + " x " + earlier.prefix()
                                    + "; use a new key for a different request",
                            Map.of("prefix", earlier.prefix(), "count", earlier.count()));
                }
                return reserved(r, earlier.first(), earlier.at(), true);
            }
        }
        long previous = ledger.counter(r.prefix());
        if (r.count() > Protocol.MAX_NUMBER - previous) {
            return Response.Failure.of(r.id(), ErrorCode.COUNTER_OVERFLOW,
                    r.prefix() + " is at " + previous + "; " + r.count() + " more would pass the largest number "
                            + Protocol.MAX_NUMBER,
                    Map.of("counter", previous, "max", Protocol.MAX_NUMBER));
        }
        Instant now = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        ledger.setCounter(r.prefix(), previous + r.count());
        if (r.key() != null) {
            ledger.putKey(new Ledger.KeyRecord(r.key(), r.prefix(), r.count(), previous + 1, now));
        }
        return reserved(r, previous + 1, now, false);
    }

    private Response.Reserved reserved(Request.Reserve r, long first, Instant at, boolean replayed) {
        int n = (int) r.count();
        List<String> ids = new ArrayList<>(n);
        List<Long> numbers = new ArrayList<>(n);
        for (long k = first; k < first + n; k++) {
            ids.add(config.format(r.prefix(), k));
            numbers.add(k);
        }
        long last = first + n - 1;
        return new Response.Reserved(r.id(), r.prefix(), ids, numbers, first - 1, last, last + 1, at, replayed);
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
            var parsed = TaskId.parse(text);
            String reason;
            if (parsed.isEmpty()) {
                reason = "not a task ID (expected PREFIX-NUMBER, e.g. SEC-20)";
            } else if (!config.isValidPrefix(parsed.get().prefix())) {
                reason = "unknown prefix " + parsed.get().prefix();
            } else {
                long counter = ledger.counter(parsed.get().prefix());
                reason = parsed.get().number() <= counter ? null
                        : "counter at " + config.format(parsed.get().prefix(), counter)
                                + "; run: taskid reserve " + parsed.get().prefix();
            }
            checks.add(new Response.Validation.Check(text, reason == null, reason));
        }
        return new Response.Validation(r.id(), checks);
    }

    private Response set(Ledger ledger, Request.SetCounter r) {
        Response.Failure bad = checkPrefix(r, r.prefix());
        if (bad != null) {
            return bad;
        }
        if (r.value() < 0 || r.value() > Protocol.MAX_NUMBER) {
            return Response.Failure.of(r.id(), ErrorCode.COUNTER_OVERFLOW,
                    "a counter is a number from 0 to " + Protocol.MAX_NUMBER + ", got " + r.value());
        }
        long previous = ledger.counter(r.prefix());
        if (r.value() < previous && !r.force()) {
            return Response.Failure.of(r.id(), ErrorCode.COUNTER_DECREASE,
                    "lowering " + r.prefix() + " from " + previous + " to " + r.value()
                            + " would hand out IDs again; pass --force (protocol: \"force\":true) to do it anyway",
                    Map.of("counter", previous));
        }
        if (r.value() != previous) {
            ledger.setCounter(r.prefix(), r.value());
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
                return Response.Failure.of(r.id(), ErrorCode.COUNTER_OVERFLOW,
                        e.getKey() + ": a counter is a number from 0 to " + Protocol.MAX_NUMBER);
            } else {
                wanted.merge(e.getKey(), e.getValue(), Math::max);
            }
        }
        if (!unknown.isEmpty()) {
            return Response.Failure.of(r.id(), ErrorCode.INVALID_PREFIX,
                    "unknown prefixes " + unknown + "; add them to .taskid/config.json \"extraPrefixes\"",
                    Map.of("invalid", unknown, "valid", List.copyOf(config.prefixes())));
        }
        List<CharSequence> texts = new ArrayList<>();
        if (r.text() != null) {
            texts.add(r.text());
        }
        for (String path : r.paths()) {
            try {
                Path p = Path.of(path);
                if (Files.size(p) > MAX_INIT_FILE_BYTES) {
                    return Response.Failure.of(r.id(), ErrorCode.BAD_REQUEST, path + " is larger than 16 MiB");
                }
                texts.add(new String(Files.readAllBytes(p), StandardCharsets.UTF_8));
            } catch (IOException | RuntimeException e) {
                return Response.Failure.of(r.id(), ErrorCode.SYSTEM_ERROR, "cannot read " + path + ": " + e);
            }
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
            }
            after.put(e.getKey(), Math.max(current, e.getValue()));
        }
        return new Response.Initialized(r.id(), found, before, after);
    }

    private Response.Failure checkPrefix(Request r, String prefix) {
        if (config.isValidPrefix(prefix)) {
            return null;
        }
        String why = TaskId.isPrefix(prefix) ? "Invalid prefix \"" + prefix + "\""
                : "Invalid prefix \"" + prefix + "\" (a prefix is an upper-case letter then up to 15 of A-Z, 0-9)";
        return Response.Failure.of(r.id(), ErrorCode.INVALID_PREFIX,
                why + ". Valid: " + String.join(", ", config.prefixes()),
                Map.of("valid", List.copyOf(config.prefixes())));
    }
}
