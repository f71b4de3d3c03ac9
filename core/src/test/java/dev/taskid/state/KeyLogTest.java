package dev.taskid.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.allocator.Allocator;
import dev.taskid.allocator.Ledger;
import dev.taskid.json.Json;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Idempotency keys in keys.log: appended per batch, replayed only up to counters.json's generation, bounded. */
class KeyLogTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
    private static final AuditEntry.Requester BY = new AuditEntry.Requester(1, 1, AuditLog.FALLBACK, 0);
    private final Json json = new Json();
    private final Allocator allocator = new Allocator(Config.defaults(), CLOCK);

    @TempDir
    Path project;

    private StateStore store;

    @BeforeEach
    void open() {
        store = StateStore.open(StateDir.of(state()), json, CLOCK);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private Path state() {
        return project.resolve(".taskid");
    }

    /** One fallback call: load, reserve {@code count} with {@code key}, commit. */
    private Response.Reserved reserve(String key, int count) {
        Ledger ledger = store.load(Config.defaults()).ledger();
        Request.Reserve req = new Request.Reserve(null, "SEC", count, null, null, key);
        Response.Reserved r = (Response.Reserved) allocator.apply(ledger, req);
        if (ledger.dirty()) {
            List<AuditEntry> entries = new ArrayList<>();
            AuditEntry.collect(req, r, BY, CLOCK.instant(), entries);
            store.commit(ledger, entries);
        }
        return r;
    }

    private static final int PER_BATCH = 2_500;

    /** Batch {@code b} of {@link #PER_BATCH} keys ({@code keyPrefix} + its number), appended and committed. */
    private static void appendBatch(KeyLog log, int b, String keyPrefix, boolean sync) {
        List<Ledger.KeyRecord> records = new ArrayList<>();
        for (int i = 0; i < PER_BATCH; i++) {
            int n = (b - 1) * PER_BATCH + i;
            records.add(new Ledger.KeyRecord(keyPrefix + n, "SEC", 1, n + 1, CLOCK.instant()));
        }
        log.append(b, records, sync);
        log.committed(b);
    }

    private long size(String name) throws Exception {
        return Files.size(state().resolve(name));
    }

    /**
     * The daemon appends key lines without a sync: after a power loss keys.log may lack a durable
     * batch's keys. counters.json carries that batch's audit lines, which hold the keys; the
     * load puts them back, so the key's retry still gets its IDs (not new ones).
     */
    @Test
    void aKeyLineLostInAPowerLossIsRestoredFromTheAuditLinesCountersJsonCarries() throws Exception {
        reserve("k-0", 1);
        long before = size(KeyLog.FILE);
        Response.Reserved first = reserve("k-1", 2);
        try (var ch = java.nio.channels.FileChannel.open(
                state().resolve(KeyLog.FILE), java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(before); // k-1's line never reached the disk
        }
        assertEquals(first.ids(), reserve("k-1", 2).ids(), "the retry gets the key's IDs");
        assertEquals(first.ids(), reserve("k-1", 2).ids(), "and again, from keys.log itself");
        assertTrue(Files.readString(state().resolve(KeyLog.FILE)).contains("\"k-1\""));
    }

    @Test
    void aPersistWritesOnlyItsOwnKeysAndCountersStaySmall() throws Exception {
        reserve("k-0", 1);
        long counters = size("counters.json");
        long keys = size(KeyLog.FILE);
        for (int i = 1; i <= 200; i++) {
            reserve("k-" + i, 1);
        }
        assertTrue(
                size("counters.json") <= counters + 16, // it carries its batch's audit line, one either time
                "counters.json does not grow with the keys: " + Files.readString(state().resolve("counters.json")));
        long perKey = (size(KeyLog.FILE) - keys) / 200;
        assertTrue(
                perKey >= keys - 8 && perKey <= keys + 8, "each persist appended one line: " + perKey + " vs " + keys);
        assertEquals(201, Files.readAllLines(state().resolve(KeyLog.FILE)).size());
        assertTrue(reserve("k-17", 1).replayed(), "an old key still replays");
    }

    @Test
    void aKeyWhoseBatchIsNotInCountersJsonIsNeverReplayedAndIsCutOff() throws Exception {
        Response.Reserved first = reserve("kept", 2); // SEC-1..2, generation 1
        assertEquals(
                1,
                new StateFile(state().resolve("counters.json"), json, CLOCK)
                        .read()
                        .orElseThrow()
                        .generation());
        // A crash after the key line of batch 2 was synced, before its counters.json was renamed:
        String line =
                "{\"gen\":2,\"key\":\"lost\",\"prefix\":\"SEC\",\"count\":3,\"first\":3,\"at\":\"2026-11-25T09:00:00Z\"}\n";
        Files.writeString(
                state().resolve(KeyLog.FILE), line, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);

        Response.Reserved retry = reserve("lost", 3);
        assertFalse(retry.replayed(), "SEC-3..5 were never acknowledged and counters.json does not cover them");
        Response.Reserved next = reserve(null, 1);
        List<String> all = new ArrayList<>(retry.ids());
        all.addAll(next.ids());
        assertEquals(all.size(), all.stream().distinct().count(), "handed out twice: " + all);
        assertEquals(List.of("SEC-6"), next.ids());
        String log = Files.readString(state().resolve(KeyLog.FILE));
        assertFalse(log.contains("09:00:00Z"), "the unfinished batch's line was cut off: " + log);
        assertTrue(reserve("lost", 3).replayed(), "the key's own durable line replays");
        assertEquals(first.ids(), reserve("kept", 2).ids());
    }

    @Test
    void aTornLastLineIsIgnoredAndCutOff() throws Exception {
        Response.Reserved first = reserve("a", 1);
        Files.writeString(
                state().resolve(KeyLog.FILE),
                "{\"gen\":1,\"key\":\"b\",\"pre",
                StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        assertEquals(first.ids(), reserve("a", 1).ids());
        reserve("c", 1);
        List<String> lines = Files.readAllLines(state().resolve(KeyLog.FILE));
        assertEquals(2, lines.size(), "torn line gone: " + lines);
        assertTrue(reserve("c", 1).replayed());
    }

    @Test
    void keysOfAnOlderVersionsCountersJsonAreMovedToKeysLog() throws Exception {
        Files.createDirectories(state());
        Files.writeString(
                state().resolve("counters.json"),
                "{\n  \"version\" : 1,\n  \"counters\" : {\"SEC\":19},\n"
                        + "  \"keys\" : [{\"key\":\"old\",\"prefix\":\"SEC\",\"count\":2,\"first\":18,\"at\":\"2026-11-25T09:59:58.250Z\"}]\n}\n");
        Response.Reserved again = reserve("old", 2);
        assertTrue(again.replayed());
        assertEquals(List.of("SEC-18", "SEC-19"), again.ids());
        assertFalse(Files.readString(state().resolve("counters.json")).contains("keys"), "moved out of counters.json");
        assertTrue(Files.readString(state().resolve(KeyLog.FILE)).contains("\"key\":\"old\""));
        assertTrue(reserve("old", 2).replayed(), "and still replayed from keys.log");
        assertEquals(List.of("SEC-20"), reserve("new", 1).ids());
    }

    @Test
    void compactionKeepsTheNewestKeysAndBoundsTheFile() throws Exception {
        KeyLog log = new KeyLog(state(), json);
        log.load(0);
        int batches = KeyLog.COMPACT_AT / PER_BATCH + 2;
        for (int b = 1; b <= batches; b++) {
            appendBatch(log, b, "k-", true);
            log.compactIfDue();
        }
        long lines = Files.readAllLines(log.path()).size();
        assertTrue(lines <= KeyLog.COMPACT_AT, "bounded: " + lines);
        List<Ledger.KeyRecord> kept = new KeyLog(state(), json).load(batches);
        assertEquals(Ledger.MAX_KEYS, kept.size());
        int last = batches * PER_BATCH - 1;
        assertEquals("k-" + last, kept.get(kept.size() - 1).key(), "the newest is kept");
        assertEquals("k-" + (last - Ledger.MAX_KEYS + 1), kept.get(0).key(), "the oldest beyond the bound are gone");
        assertTrue(Files.readString(log.path()).contains("\"gen\":5,"), "compaction keeps each line's own generation");
    }

    /**
     * The daemon appends batch k+1's lines while batch k is still being installed. When k+1
     * fails, k's lines stay and k+1's are cut off before the next batch (which gets k+1's
     * generation again) appends: otherwise the failed batch's key would be replayed with IDs
     * nobody was given. Fails when an abandoned batch drops the pending batch before it, or when
     * the next append goes after the abandoned lines.
     */
    @Test
    void aBatchAbandonedWhileTheOneBeforeItIsPendingLosesOnlyItsOwnLines() throws Exception {
        KeyLog log = new KeyLog(state(), json);
        log.load(0);
        log.append(1, List.of(new Ledger.KeyRecord("kept", "SEC", 1, 1, CLOCK.instant())));
        log.append(2, List.of(new Ledger.KeyRecord("failed", "SEC", 1, 2, CLOCK.instant())));
        log.abandoned(2);
        log.committed(1);
        log.append(2, List.of(new Ledger.KeyRecord("retry", "SEC", 1, 2, CLOCK.instant())));
        log.committed(2);
        List<String> keys = new KeyLog(state(), json)
                .load(2).stream().map(Ledger.KeyRecord::key).toList();
        assertEquals(List.of("kept", "retry"), keys);
        assertFalse(Files.readString(log.path()).contains("failed"), "the abandoned line is gone from the file");
    }

    /**
     * The daemon compacts keys.log while later batches are in flight: their lines, appended after
     * the durable ones, move to the new file, and their outcome still applies there (a committed
     * one is kept, an abandoned one cut off). Fails when the compaction drops or misplaces the
     * lines of a pending batch (the committed key would be lost, or the abandoned one replayed).
     */
    @Test
    void aCompactionUnderBatchesInFlightMovesTheirLinesAndKeepsTheirOutcome() throws Exception {
        KeyLog log = new KeyLog(state(), json);
        log.load(0);
        int batches = KeyLog.COMPACT_AT / PER_BATCH;
        for (int b = 1; b <= batches; b++) {
            appendBatch(log, b, "k-", false);
        }
        long first = batches * (long) PER_BATCH + 1;
        log.append(batches + 1, List.of(new Ledger.KeyRecord("in-flight", "SEC", 1, first, CLOCK.instant())), false);
        log.append(batches + 2, List.of(new Ledger.KeyRecord("failed", "SEC", 1, first + 1, CLOCK.instant())), false);
        assertTrue(log.compactIfDue(), "due: " + KeyLog.COMPACT_AT + " durable lines");
        log.committed(batches + 1);
        log.abandoned(batches + 2);
        log.append(batches + 2, List.of(new Ledger.KeyRecord("retry", "SEC", 1, first + 1, CLOCK.instant())), false);
        log.committed(batches + 2);
        log.sync();
        log.close();

        List<String> text = Files.readAllLines(log.path());
        assertEquals(Ledger.MAX_KEYS + 2, text.size(), "the newest durable lines and the two batches after them");
        List<Ledger.KeyRecord> kept = new KeyLog(state(), json).load(batches + 2);
        List<String> keys = kept.stream().map(Ledger.KeyRecord::key).toList();
        assertEquals(List.of("in-flight", "retry"), keys.subList(keys.size() - 2, keys.size()));
        assertFalse(keys.contains("failed"), "the abandoned batch's line is cut off in the new file");
        assertEquals("k-" + (batches * PER_BATCH - Ledger.MAX_KEYS + 2), keys.get(0), "the newest " + Ledger.MAX_KEYS);
    }

    /**
     * The daemon appends to an open keys.log. When the file is removed under it, its sync must
     * fail (the daemon then stops, and its restart restores the keys from the audit lines
     * counters.json carries), not report lines durable that went to a file nobody will read.
     */
    @Test
    void aSyncOfLinesWhoseFileWasRemovedFails() throws Exception {
        KeyLog log = new KeyLog(state(), json);
        log.load(0);
        log.append(1, List.of(new Ledger.KeyRecord("gone", "SEC", 1, 1, CLOCK.instant())), false);
        log.committed(1);
        Files.delete(log.path());
        TaskIdException e = assertThrows(TaskIdException.class, log::sync);
        assertTrue(e.getMessage().contains("removed or replaced"), e.getMessage());
        log.close();
    }

    /**
     * In the daemon one thread appends, another syncs and a third compacts. A sync that overlaps
     * a compaction's swap forced the old file and then finds another file at the path: it must
     * sync the new one, not report keys.log as removed (which halts the daemon). Fails with
     * "removed or replaced" when the sync does not start again after a swap.
     */
    @Test
    void aSyncOverlappingACompactionSyncsTheNewFileInsteadOfFailing() throws Exception {
        KeyLog log = new KeyLog(state(), json);
        log.load(0);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        AtomicLong generation = new AtomicLong();
        AtomicInteger compacted = new AtomicInteger();
        Thread appender = new Thread(() -> {
            int n = 0;
            try {
                while (!stop.get()) {
                    if (n > (compacted.get() + 4) * KeyLog.COMPACT_AT) {
                        Thread.onSpinWait(); // far ahead of the compactions: the file stays a few MB
                        continue;
                    }
                    List<Ledger.KeyRecord> records = new ArrayList<>();
                    for (int i = 0; i < 50; i++, n++) {
                        records.add(new Ledger.KeyRecord("k-" + n, "SEC", 1, n + 1, CLOCK.instant()));
                    }
                    long g = generation.incrementAndGet();
                    log.append(g, records, false);
                    log.committed(g);
                }
            } catch (Throwable t) {
                failed.compareAndSet(null, t);
            }
        });
        Thread syncer = new Thread(() -> {
            try {
                while (!stop.get()) {
                    log.sync();
                }
            } catch (Throwable t) {
                failed.compareAndSet(null, t);
            }
        });
        appender.start();
        syncer.start();
        int compactions = 0;
        try {
            while (compactions < 6 && failed.get() == null) {
                if (log.compactIfDue()) {
                    compactions++;
                    compacted.incrementAndGet();
                } else {
                    Thread.onSpinWait();
                }
            }
        } finally {
            stop.set(true);
            appender.join();
            syncer.join();
        }
        int done = compactions;
        assertNull(failed.get(), () -> done + " compactions, then: " + failed.get());
        log.sync();
        log.close();
        List<Ledger.KeyRecord> kept = new KeyLog(state(), json).load(generation.get());
        assertEquals(Ledger.MAX_KEYS, kept.size());
        long last = generation.get() * 50 - 1;
        assertEquals("k-" + last, kept.get(kept.size() - 1).key(), "the newest line survived every swap");
    }

    /**
     * A compaction reads keys.log backwards from its end, a window at a time, until it holds the
     * newest MAX_KEYS lines. With 500-character keys they do not fit the first window: fails when
     * the window does not grow (too few keys kept) or a line across its edge is cut.
     */
    @Test
    void aCompactionOfLongLinesReadsBackUntilItHasTheNewestKeys() throws Exception {
        KeyLog log = new KeyLog(state(), json);
        log.load(0);
        String pad = "x".repeat(500);
        int batches = KeyLog.COMPACT_AT / PER_BATCH;
        for (int b = 1; b <= batches; b++) {
            appendBatch(log, b, pad, true);
        }
        assertTrue(log.compactIfDue());
        log.close();
        List<String> lines = Files.readAllLines(log.path());
        assertEquals(Ledger.MAX_KEYS, lines.size());
        List<Ledger.KeyRecord> kept = new KeyLog(state(), json).load(batches);
        assertEquals(Ledger.MAX_KEYS, kept.size());
        assertEquals(pad + (KeyLog.COMPACT_AT - Ledger.MAX_KEYS), kept.get(0).key());
        assertEquals(pad + (KeyLog.COMPACT_AT - 1), kept.get(kept.size() - 1).key());
    }
}
