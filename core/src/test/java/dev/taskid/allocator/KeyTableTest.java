package dev.taskid.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyTableTest {
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00.123456789Z");

    private static Ledger.KeyRecord record(String key, long n) {
        return new Ledger.KeyRecord(key, "P" + (n % 3), 1 + n % 5, n, T0.plusMillis(n));
    }

    /**
     * Keys whose String hash codes collide ("Aa" and "BB" hash alike, so every string of such
     * blocks does): long probe runs, which the backward-shift deletion must keep findable.
     */
    private static String colliding(int n) {
        StringBuilder b = new StringBuilder();
        for (int bit = 0; bit < 6; bit++) {
            b.append((n >> bit & 1) == 0 ? "Aa" : "BB");
        }
        return b.append(n >> 6).toString();
    }

    /**
     * Random adds, updates, evictions and their undos against a LinkedHashMap of records (the
     * ledger's former store): the same keys, in the same order, with the same values, through
     * growth and wrap-around of the ring. Fails when a deletion leaves a key unfindable (a probe
     * run broken), when the ring loses its order, or when an undo puts a key back elsewhere.
     */
    @Test
    void behavesAsAnInsertionOrderedMapThroughEvictionsUndosAndGrowth() {
        Random random = new Random(7);
        KeyTable table = new KeyTable();
        LinkedHashMap<String, Ledger.KeyRecord> model = new LinkedHashMap<>();
        Deque<Ledger.KeyRecord> evicted = new ArrayDeque<>();
        long n = 0;
        for (int step = 0; step < 60_000; step++) {
            int op = random.nextInt(10);
            if (op < 4 || model.isEmpty()) {
                String key = random.nextBoolean() ? colliding(random.nextInt(400)) : "k" + random.nextInt(3_000);
                Ledger.KeyRecord r = record(key, ++n);
                Ledger.KeyRecord before = model.get(key);
                assertEquals(before, table.addNewest(r), "replaced " + key);
                model.put(key, r);
            } else if (op < 7) {
                Ledger.KeyRecord oldest = model.values().iterator().next();
                assertEquals(oldest, table.removeOldest());
                model.remove(oldest.key());
                evicted.push(oldest);
            } else if (op < 8
                    && !evicted.isEmpty()
                    && !model.containsKey(evicted.peek().key())) {
                Ledger.KeyRecord back = evicted.pop();
                table.addOldest(back);
                LinkedHashMap<String, Ledger.KeyRecord> rebuilt = new LinkedHashMap<>();
                rebuilt.put(back.key(), back);
                rebuilt.putAll(model);
                model = rebuilt;
            } else if (op < 9) {
                List<String> order = new ArrayList<>(model.keySet());
                String newest = order.get(order.size() - 1);
                table.removeNewest();
                model.remove(newest);
            } else {
                String key = random.nextBoolean() ? colliding(random.nextInt(400)) : "k" + random.nextInt(3_000);
                assertEquals(model.get(key), table.get(key), "lookup of " + key);
            }
            assertEquals(model.size(), table.size());
            if (step % 1_000 == 0) {
                assertEquals(new ArrayList<>(model.values()), table.records(), "order at step " + step);
                for (String key : model.keySet()) {
                    assertEquals(model.get(key), table.get(key), "lookup of " + key);
                }
            }
        }
        assertEquals(new ArrayList<>(model.values()), table.records());
    }

    @Test
    void aForgottenKeyIsGoneAndItsNeighboursStay() {
        KeyTable table = new KeyTable();
        for (int i = 0; i < 40; i++) {
            table.addNewest(record(colliding(i), i));
        }
        for (int i = 0; i < 20; i++) {
            table.removeOldest();
        }
        for (int i = 0; i < 20; i++) {
            assertNull(table.get(colliding(i)));
        }
        for (int i = 20; i < 40; i++) {
            assertEquals(record(colliding(i), i), table.get(colliding(i)));
        }
    }

    /** The age bound compares the oldest key's full instant, nanoseconds included. */
    @Test
    void theOldestIsBeforeAHorizonByItsNanoseconds() {
        KeyTable table = new KeyTable();
        table.addNewest(new Ledger.KeyRecord("k", "P", 1, 1, T0));
        assertEquals(false, table.oldestBefore(T0));
        assertEquals(true, table.oldestBefore(T0.plusNanos(1)));
        assertEquals(false, table.oldestBefore(T0.minusNanos(1)));
    }
}
