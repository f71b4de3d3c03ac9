package dev.taskid.protocol;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/** One response line. Every response echoes its request's {@code id} (null if none). */
public sealed interface Response {

    RequestId id();

    default boolean ok() {
        return true;
    }

    /**
     * IDs handed out. {@code previous} is the counter before (the last number issued until
     * now), {@code counter} the counter after, {@code next} the number the next reservation
     * will start at. {@code replayed} is true when an idempotency key returned an earlier
     * reservation instead of a new one.
     */
    record Reserved(
            RequestId id,
            String prefix,
            List<String> ids,
            List<Long> numbers,
            long previous,
            long counter,
            long next,
            Instant reservedAt,
            boolean replayed)
            implements Response {
        public Reserved {
            ids = List.copyOf(ids);
            numbers = List.copyOf(numbers);
        }
    }

    /** Counter values, sorted by prefix; value = last number issued (0: none yet). */
    record Counters(RequestId id, SortedMap<String, Long> counters) implements Response {
        public Counters {
            counters = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(counters));
        }
    }

    /** One line per ID asked about; {@code reason} is null when the ID was issued. */
    record Validation(RequestId id, List<Check> results) implements Response {
        public Validation {
            results = List.copyOf(results);
        }

        public boolean allIssued() {
            return results.stream().allMatch(Check::issued);
        }

        public record Check(String id, boolean issued, String reason) {}
    }

    /** A counter after {@code set}. */
    record CounterSet(RequestId id, String prefix, long previous, long counter) implements Response {}

    /**
     * Result of {@code init}: how many IDs were found, the counters before and after (only
     * prefixes that were seen or exist).
     */
    record Initialized(RequestId id, int found, SortedMap<String, Long> before, SortedMap<String, Long> after)
            implements Response {
        public Initialized {
            before = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(before));
            after = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(after));
        }
    }

    /**
     * Result of {@code archive}: {@code changed} are the numbers archived (restored with
     * {@code restore}), {@code unchanged} those already in that state; {@code active} lists the
     * prefix's active numbers afterwards, ascending; {@code counter} is the prefix's counter
     * (its position, as in peek) and {@code next} the number the next reservation starts with.
     */
    record Archived(
            RequestId id,
            String prefix,
            boolean restore,
            List<Long> changed,
            List<Long> unchanged,
            List<Long> active,
            long wrap,
            long counter,
            long next)
            implements Response {
        public Archived {
            changed = List.copyOf(changed);
            unchanged = List.copyOf(unchanged);
            active = List.copyOf(active);
        }
    }

    /** Who is serving: {@code mode} is "daemon" or "fallback". */
    record Hello(
            RequestId id,
            int protocol,
            String version,
            List<String> capabilities,
            long pid,
            String stateDir,
            String epoch,
            String mode)
            implements Response {
        public Hello {
            capabilities = List.copyOf(capabilities);
        }
    }

    /** Free-form statistics: values are numbers, strings, lists or nested maps. */
    record Stats(RequestId id, Map<String, Object> values) implements Response {}

    record Pong(RequestId id) implements Response {}

    /** A refused or failed request. Nothing was changed. */
    record Failure(RequestId id, ErrorCode code, String message, boolean retry, Map<String, Object> details)
            implements Response {
        public Failure {
            Objects.requireNonNull(code, "code");
            Objects.requireNonNull(message, "message");
            details = details == null ? Map.of() : details;
        }

        public static Failure of(RequestId id, ErrorCode code, String message) {
            return new Failure(id, code, message, code.retryByDefault(), Map.of());
        }

        public static Failure of(RequestId id, ErrorCode code, String message, Map<String, Object> details) {
            return new Failure(id, code, message, code.retryByDefault(), details);
        }

        /** The same failure answering another request. */
        public Failure withId(RequestId other) {
            return new Failure(other, code, message, retry, details);
        }

        @Override
        public boolean ok() {
            return false;
        }
    }
}
