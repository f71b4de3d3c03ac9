package dev.taskid.allocator;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The allocation state: counters (prefix to last number issued), the idempotency keys of
 * recent reservations and, for wrapped prefixes, the active numbers (handed out, not yet
 * archived; see {@link Wrap}). Mutable and owned by one thread at a time. Every change is recorded so
 * that a batch whose persist failed can be rolled back to the last durable state.
 */
public final class Ledger {
    /** Keys are forgotten after this many newer keys or this age, whichever comes first. */
    public static final int MAX_KEYS = 10_000;

    public static final Duration KEY_TTL = Duration.ofHours(24);

    private final TreeMap<String, Long> counters = new TreeMap<>();
    private final KeyTable keys = new KeyTable();
    /** prefix → active number → the position that handed it out (0: marked active by hand). */
    private final TreeMap<String, TreeMap<Long, Long>> active = new TreeMap<>();

    private final ArrayDeque<Runnable> undo = new ArrayDeque<>();
    /**
     * The number of the last durable write of these values (counters.json's {@code gen}); each
     * persist writes the next one. Idempotency keys are stored apart, tagged with the generation
     * of their batch, so a key whose batch never became durable can be told apart and ignored.
     */
    private long generation;

    /** A reservation remembered by its idempotency key. */
    public record KeyRecord(String key, String prefix, long count, long first, Instant at) {}

    public Ledger() {}

    /** A ledger holding the given durable values; nothing to roll back. */
    public Ledger(Map<String, Long> counters, Collection<KeyRecord> keys) {
        this.counters.putAll(counters);
        for (KeyRecord k : keys) {
            this.keys.addNewest(k); // a key listed twice keeps its first place and its last values
        }
    }

    /** A ledger holding the given durable values, active numbers included; nothing to roll back. */
    public Ledger(
            Map<String, Long> counters, Collection<KeyRecord> keys, Map<String, ? extends Map<Long, Long>> active) {
        this(counters, keys);
        active.forEach((prefix, numbers) -> this.active.put(prefix, new TreeMap<>(numbers)));
    }

    /** A ledger holding the given durable values of generation {@code generation}; nothing to roll back. */
    public Ledger(
            Map<String, Long> counters,
            Collection<KeyRecord> keys,
            Map<String, ? extends Map<Long, Long>> active,
            long generation) {
        this(counters, keys, active);
        this.generation = generation;
    }

    /** The generation of these values: that of the last durable write, or the next one once {@link #advanceGeneration} ran. */
    public long generation() {
        return generation;
    }

    /** Gives the write about to be made its number: one more than the last durable one (undone by a rollback). */
    public void advanceGeneration() {
        generation++;
        undo.push(() -> generation--);
    }

    /** Last number issued for {@code prefix}; 0 if none. */
    public long counter(String prefix) {
        return counters.getOrDefault(prefix, 0L);
    }

    public SortedMap<String, Long> counters() {
        return Collections.unmodifiableSortedMap(counters);
    }

    /** The keys remembered, oldest first: a copy. */
    public List<KeyRecord> keys() {
        return Collections.unmodifiableList(keys.records());
    }

    public KeyRecord key(String key) {
        return keys.get(key);
    }

    /** Active numbers of {@code prefix} (number → position that handed it out), ascending. */
    public SortedMap<Long, Long> active(String prefix) {
        TreeMap<Long, Long> m = active.get(prefix);
        return m == null ? Collections.emptySortedMap() : Collections.unmodifiableSortedMap(m);
    }

    /**
     * Every prefix that has ever had active numbers (possibly none now), with its active
     * numbers. A prefix stays listed once present, so the state file keeps saying that
     * it tracks active numbers.
     */
    public SortedMap<String, SortedMap<Long, Long>> activeNumbers() {
        TreeMap<String, SortedMap<Long, Long>> out = new TreeMap<>();
        active.forEach((p, m) -> out.put(p, Collections.unmodifiableSortedMap(m)));
        return Collections.unmodifiableSortedMap(out);
    }

    /** Marks {@code number} active, handed out at {@code position}. */
    public void activate(String prefix, long number, long position) {
        TreeMap<Long, Long> m = active.get(prefix);
        boolean created = m == null;
        if (created) {
            m = new TreeMap<>();
            active.put(prefix, m);
        }
        Long old = m.put(number, position);
        undo.push(() -> {
            TreeMap<Long, Long> current = active.get(prefix);
            if (old == null) {
                current.remove(number);
            } else {
                current.put(number, old);
            }
            if (created) {
                active.remove(prefix);
            }
        });
    }

    /** Tracks the active numbers of {@code prefix} from now on (none active yet). */
    public void track(String prefix) {
        if (!active.containsKey(prefix)) {
            active.put(prefix, new TreeMap<>());
            undo.push(() -> active.remove(prefix));
        }
    }

    /**
     * Stops tracking {@code prefix}: its numbers are handed out without wrap from now on, so
     * the active set would no longer know them all. Enabling wrap again carries them over.
     */
    public void untrack(String prefix) {
        TreeMap<Long, Long> old = active.remove(prefix);
        if (old != null) {
            undo.push(() -> active.put(prefix, old));
        }
    }

    /** Marks {@code number} done; returns whether it was active. */
    public boolean deactivate(String prefix, long number) {
        TreeMap<Long, Long> m = active.get(prefix);
        Long old = m == null ? null : m.remove(number);
        if (old == null) {
            return false;
        }
        undo.push(() -> active.get(prefix).put(number, old));
        return true;
    }

    public void setCounter(String prefix, long value) {
        Long old = counters.put(prefix, value);
        undo.push(() -> {
            if (old == null) {
                counters.remove(prefix);
            } else {
                counters.put(prefix, old);
            }
        });
    }

    /** Remembers a key, forgetting the oldest ones beyond the count and age bounds. */
    public void putKey(KeyRecord record) {
        Instant horizon = record.at().minus(KEY_TTL);
        while (keys.size() >= MAX_KEYS || keys.oldestBefore(horizon)) {
            KeyRecord oldest = keys.removeOldest();
            undo.push(() -> keys.addOldest(oldest));
        }
        String prefix = counters.ceilingKey(record.prefix());
        KeyRecord kept = record;
        if (prefix != null && prefix.equals(record.prefix())) {
            // the counters' own String: a request's copy would be kept alive with the key
            kept = new KeyRecord(record.key(), prefix, record.count(), record.first(), record.at());
        }
        KeyRecord replaced = keys.addNewest(kept);
        if (replaced == null) {
            undo.push(keys::removeNewest);
        } else {
            undo.push(() -> keys.addNewest(replaced));
        }
    }

    /** Whether anything changed since the last commit or rollback. */
    public boolean dirty() {
        return !undo.isEmpty();
    }

    /** How many changes since the last commit: a mark for {@link #commitOldest} and {@link #rollbackTo}. */
    public int changes() {
        return undo.size();
    }

    /**
     * The oldest {@code count} changes are durable (a persist that began when {@link #changes}
     * was {@code count} completed); changes made since stay undoable.
     */
    public void commitOldest(int count) {
        for (int i = 0; i < count; i++) {
            undo.removeLast();
        }
    }

    /** Undoes the changes made after {@link #changes} returned {@code mark}. */
    public void rollbackTo(int mark) {
        while (undo.size() > mark) {
            undo.pop().run();
        }
    }

    /** The current values are durable: forget how to undo them. */
    public void commit() {
        undo.clear();
    }

    /** Returns to the values of the last commit. */
    public void rollback() {
        while (!undo.isEmpty()) {
            undo.pop().run();
        }
    }
}
