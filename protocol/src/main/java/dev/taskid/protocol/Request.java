package dev.taskid.protocol;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/** One request line. {@code id} is null when the caller sent none. */
public sealed interface Request {

    RequestId id();

    /** The wire name of the operation. */
    String op();

    /** Whether applying this request may change durable state. */
    default boolean mutates() {
        return false;
    }

    /** Handshake: the client's protocol version. */
    record Hello(RequestId id, int protocol) implements Request {
        public String op() {
            return "hello";
        }
    }

    /**
     * Reserve {@code count} consecutive IDs. {@code key}, when not null, makes the call
     * idempotent: a repeat with the same key and arguments returns the same IDs.
     */
    record Reserve(RequestId id, String prefix, long count, String purpose, String agent, String key)
            implements Request {
        public Reserve {
            Objects.requireNonNull(prefix, "prefix");
        }

        public String op() {
            return "reserve";
        }

        @Override
        public boolean mutates() {
            return true;
        }
    }

    /** Current counters, all or one prefix. */
    record Peek(RequestId id, String prefix) implements Request {
        public String op() {
            return "peek";
        }
    }

    /** Whether each ID was issued (valid prefix and number at or below its counter). */
    record Validate(RequestId id, List<String> ids) implements Request {
        public Validate {
            ids = List.copyOf(ids);
        }

        public String op() {
            return "validate";
        }
    }

    /** Set a counter; lowering it requires {@code force} because lowered IDs repeat. */
    record SetCounter(RequestId id, String prefix, long value, boolean force) implements Request {
        public SetCounter {
            Objects.requireNonNull(prefix, "prefix");
        }

        public String op() {
            return "set";
        }

        @Override
        public boolean mutates() {
            return true;
        }
    }

    /**
     * Raise counters, never lower them: to at least each value in {@code floors} (what the
     * client scanned in its files) and to the highest ID found in {@code text} (bounded by the
     * line; kept for older clients). Whoever applies it reads no file a client names.
     */
    record Init(RequestId id, String text, Map<String, Long> floors) implements Request {
        public Init {
            floors = floors == null ? Map.of() : Map.copyOf(floors);
        }

        public String op() {
            return "init";
        }

        @Override
        public boolean mutates() {
            return true;
        }
    }

    /**
     * Marks numbers of a wrapped prefix done ("archived"), so the sequence may hand them out
     * again when it comes round. With {@code restore}, marks them active again instead (in use
     * from before taskid, or archived by mistake). An empty {@code numbers} changes nothing and
     * lists the active numbers.
     */
    record Archive(RequestId id, String prefix, List<Long> numbers, boolean restore) implements Request {
        public Archive {
            Objects.requireNonNull(prefix, "prefix");
            numbers = List.copyOf(numbers);
        }

        public String op() {
            return "archive";
        }

        @Override
        public boolean mutates() {
            return true;
        }
    }

    /** Counters of the serving process. */
    record Stats(RequestId id) implements Request {
        public String op() {
            return "stats";
        }
    }

    /** Liveness check. */
    record Ping(RequestId id) implements Request {
        public String op() {
            return "ping";
        }
    }
}
