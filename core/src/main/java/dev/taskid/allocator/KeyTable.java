package dev.taskid.allocator;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The idempotency keys a {@link Ledger} remembers, oldest first: a ring of parallel arrays with an
 * open-addressing index (linear probing). The daemon keeps up to {@link Ledger#MAX_KEYS} and,
 * once full, forgets one per keyed reservation. A map of records kept five objects alive per key
 * (the record, its Instant, the map's entry, the key and its bytes) long enough to reach the old
 * generation, where their steady death made full collections; here a key keeps only its String
 * (docs/BENCHMARKS.md, "Idempotency keys, session 7"). A key's slot does not move while it lives,
 * except when the arrays grow. Not thread-safe: its ledger's owner uses it.
 */
final class KeyTable {
    private String[] keys;
    private String[] prefixes;
    private long[] counts;
    private long[] firsts;
    private long[] seconds;
    private int[] nanos;
    /** Slot of the oldest key, and how many there are: they fill slots head, head + 1, ... (mod capacity). */
    private int head;

    private int size;
    /** slot + 1 per position; 0 is empty. Twice the capacity: probes stay short. */
    private int[] index;

    KeyTable() {
        allocate(16);
    }

    int size() {
        return size;
    }

    /** The record of {@code key}, or null. */
    Ledger.KeyRecord get(String key) {
        int at = position(key);
        return index[at] == 0 ? null : record(index[at] - 1);
    }

    /** Whether the oldest key was made before {@code horizon}; false when there is none. */
    boolean oldestBefore(Instant horizon) {
        if (size == 0) {
            return false;
        }
        long s = seconds[head];
        return s < horizon.getEpochSecond() || (s == horizon.getEpochSecond() && nanos[head] < horizon.getNano());
    }

    /**
     * Adds {@code r} as the newest key; a key already here keeps its place, with {@code r}'s values.
     * Returns the record it replaced, or null when the key is new.
     */
    Ledger.KeyRecord addNewest(Ledger.KeyRecord r) {
        int at = position(r.key());
        if (index[at] != 0) {
            int slot = index[at] - 1;
            Ledger.KeyRecord before = record(slot);
            set(slot, r);
            return before;
        }
        if (size == keys.length) {
            grow();
            at = position(r.key());
        }
        int slot = (head + size) % keys.length;
        set(slot, r);
        index[at] = slot + 1;
        size++;
        return null;
    }

    /** Puts back {@code r} as the oldest key (undoing {@link #removeOldest}); it must not be here. */
    void addOldest(Ledger.KeyRecord r) {
        if (size == keys.length) {
            grow();
        }
        head = (head - 1 + keys.length) % keys.length;
        set(head, r);
        index[position(r.key())] = head + 1;
        size++;
    }

    /** Forgets the oldest key; returns it. */
    Ledger.KeyRecord removeOldest() {
        Ledger.KeyRecord r = record(head);
        forget(head);
        head = (head + 1) % keys.length;
        size--;
        return r;
    }

    /** Forgets the newest key (undoing an {@link #addNewest} that added it). */
    void removeNewest() {
        forget((head + size - 1) % keys.length);
        size--;
    }

    /** Every key's record, oldest first. */
    List<Ledger.KeyRecord> records() {
        List<Ledger.KeyRecord> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            out.add(record((head + i) % keys.length));
        }
        return out;
    }

    private Ledger.KeyRecord record(int slot) {
        return new Ledger.KeyRecord(
                keys[slot],
                prefixes[slot],
                counts[slot],
                firsts[slot],
                Instant.ofEpochSecond(seconds[slot], nanos[slot]));
    }

    private void set(int slot, Ledger.KeyRecord r) {
        keys[slot] = r.key();
        prefixes[slot] = r.prefix();
        counts[slot] = r.count();
        firsts[slot] = r.first();
        seconds[slot] = r.at().getEpochSecond();
        nanos[slot] = r.at().getNano();
    }

    /** Drops {@code slot}'s key from the index and its references from the arrays. */
    private void forget(int slot) {
        int hole = position(keys[slot]);
        keys[slot] = null;
        prefixes[slot] = null;
        // Backward-shift deletion: an entry after the hole moves into it unless its home lies
        // cyclically in (hole, j], where a probe for it never passes the hole.
        int mask = index.length - 1;
        for (int j = (hole + 1) & mask; index[j] != 0; j = (j + 1) & mask) {
            int home = home(keys[index[j] - 1], mask);
            boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays) {
                index[hole] = index[j];
                hole = j;
            }
        }
        index[hole] = 0;
    }

    /** Where {@code key} is in the index, or the empty position where it would go. */
    private int position(String key) {
        int mask = index.length - 1;
        int i = home(key, mask);
        while (index[i] != 0 && !keys[index[i] - 1].equals(key)) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private static int home(String key, int mask) {
        int h = key.hashCode();
        return (h ^ (h >>> 16)) & mask;
    }

    private void grow() {
        List<Ledger.KeyRecord> all = records();
        allocate(keys.length * 2);
        for (Ledger.KeyRecord r : all) {
            addNewest(r);
        }
    }

    private void allocate(int capacity) {
        keys = new String[capacity];
        prefixes = new String[capacity];
        counts = new long[capacity];
        firsts = new long[capacity];
        seconds = new long[capacity];
        nanos = new int[capacity];
        index = new int[capacity * 2];
        head = 0;
        size = 0;
    }
}
