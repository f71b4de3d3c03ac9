package dev.taskid.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.allocator.Allocator;
import dev.taskid.allocator.Ledger;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening a state directory: first use from TASKS.md, and the durable commit step. */
class StateStoreTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
    private static final AuditEntry.Requester BY = new AuditEntry.Requester(1, 1, AuditLog.FALLBACK, 0);
    private final Json json = new Json();

    @TempDir
    Path project;

    private StateStore store;

    @BeforeEach
    void open() {
        store = StateStore.open(StateDir.of(project.resolve(".taskid")), json, CLOCK);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private Path counters() {
        return project.resolve(".taskid/counters.json");
    }

    @Test
    void openCreatesTheDirectoryButNoCounters() {
        assertTrue(Files.isDirectory(project.resolve(".taskid")));
        assertTrue(Files.isRegularFile(project.resolve(".taskid/.gitignore")));
        assertFalse(Files.exists(counters()), "counters.json is made by the first load, under the lock");
    }

    @Test
    void firstUseStartsFromTheHighestIdsInTasksMd() throws Exception {
        Files.writeString(
                project.resolve("TASKS.md"),
                "| SEC-19 | a |\n| SEC-007 | b |\n| UX-3 | c |\n| FOO-99 | d |\n" + "- sec-50 lower case\n");
        StateStore.Loaded first;
        try (StateLock.Held held = store.lock().tryAcquire("test").orElseThrow()) {
            first = store.load(Config.defaults());
        }
        assertEquals(Map.of("SEC", 19L, "UX", 3L), first.ledger().counters());
        assertFalse(first.ledger().dirty(), "already durable");
        assertEquals(
                Optional.of("taskid: created " + counters() + " from " + project.resolve("TASKS.md")
                        + ": SEC -> 19, UX -> 3"),
                first.notice());
        assertEquals(
                Map.of("SEC", 19L, "UX", 3L),
                new StateFile(counters(), json, CLOCK).read().orElseThrow().counters());
        List<AuditEntry> lines = new ArrayList<>();
        AuditReader.read(project.resolve(".taskid"), json, l -> true, lines::add);
        assertEquals(
                List.of("create SEC 19", "create UX 3"),
                lines.stream()
                        .map(e -> e.op() + " " + e.prefix() + " " + e.to())
                        .toList());

        StateStore.Loaded second = store.load(Config.defaults());
        assertEquals(first.ledger().counters(), second.ledger().counters());
        assertEquals(Optional.empty(), second.notice(), "said once only");

        Response.Reserved next = (Response.Reserved) new Allocator(Config.defaults(), CLOCK)
                .apply(second.ledger(), new Request.Reserve(null, "SEC", 1, null, null, null));
        assertEquals(List.of("SEC-20"), next.ids(), "never collides with a task that already exists");
    }

    @Test
    void firstUseWithoutTasksMdStartsAtZero() {
        StateStore.Loaded loaded = store.load(Config.defaults());
        assertEquals(Map.of(), loaded.ledger().counters());
        assertEquals(
                Optional.of(
                        "taskid: created " + counters() + " with all counters at 0 (no TASKS.md in " + project + ")"),
                loaded.notice());
        assertTrue(Files.isRegularFile(counters()));
    }

    @Test
    void aCorruptFileIsNeverMistakenForAFirstUse() throws Exception {
        Files.writeString(project.resolve("TASKS.md"), "| SEC-3 |\n");
        Files.writeString(counters(), "{\"version\":1,\"counters\":{\"SEC\":40}");
        byte[] before = Files.readAllBytes(counters());
        assertEquals(
                ErrorCode.STATE_CORRUPT,
                assertThrows(TaskIdException.class, () -> store.load(Config.defaults()))
                        .code());
        assertArrayEquals(before, Files.readAllBytes(counters()), "not rebuilt from TASKS.md (SEC-4 would repeat)");
    }

    @Test
    void commitWritesCountersThenAuditAndCommitsTheLedger() throws Exception {
        Ledger ledger = store.load(Config.defaults()).ledger();
        Allocator allocator = new Allocator(Config.defaults(), CLOCK);
        Request.Reserve req = new Request.Reserve(null, "SEC", 2, "why", null, null);
        Response r = allocator.apply(ledger, req);
        List<AuditEntry> entries = new ArrayList<>();
        AuditEntry.collect(req, r, BY, CLOCK.instant(), entries);
        store.commit(ledger, entries);
        assertFalse(ledger.dirty());
        assertEquals(
                Map.of("SEC", 2L),
                new StateFile(counters(), json, CLOCK).read().orElseThrow().counters());
        assertEquals(
                Map.of("SEC", 2L),
                AuditReader.counters(project.resolve(".taskid"), json).highest());
    }

    @Test
    void anIdempotencyKeyReplaysAfterARestart() {
        Allocator allocator = new Allocator(Config.defaults(), CLOCK);
        Request.Reserve req = new Request.Reserve(null, "SEC", 2, null, null, "retry-7f3a");
        Ledger ledger = store.load(Config.defaults()).ledger();
        Response.Reserved first = (Response.Reserved) allocator.apply(ledger, req);
        List<AuditEntry> entries = new ArrayList<>();
        AuditEntry.collect(req, first, BY, CLOCK.instant(), entries); // a key is stored from its reservation's entry
        store.commit(ledger, entries);

        Ledger reloaded = store.load(Config.defaults()).ledger(); // what a new process reads
        Response.Reserved again = (Response.Reserved) allocator.apply(reloaded, req);
        assertTrue(again.replayed());
        assertEquals(first.ids(), again.ids());
        assertEquals(first.reservedAt(), again.reservedAt());
        assertEquals(
                ErrorCode.KEY_REUSED,
                ((Response.Failure) allocator.apply(
                                reloaded, new Request.Reserve(null, "SEC", 3, null, null, "retry-7f3a")))
                        .code());
    }

    @Test
    void aFailedAuditAppendRollsBackAndRewritesTheOldCounters() throws Exception {
        Ledger ledger = store.load(Config.defaults()).ledger();
        ledger.setCounter("SEC", 5);
        store.commit(ledger, List.of());
        byte[] durable = Files.readAllBytes(counters());
        Files.deleteIfExists(project.resolve(".taskid/audit.log"));
        Files.createDirectory(project.resolve(".taskid/audit.log")); // appending now fails

        Response r = new Allocator(Config.defaults(), CLOCK)
                .apply(ledger, new Request.Reserve(null, "SEC", 3, null, null, null));
        List<AuditEntry> entries = new ArrayList<>();
        AuditEntry.collect(new Request.Reserve(null, "SEC", 3, null, null, null), r, BY, CLOCK.instant(), entries);
        TaskIdException e = assertThrows(TaskIdException.class, () -> store.commit(ledger, entries));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        assertEquals(5, ledger.counter("SEC"), "rolled back: nothing of the batch may be acknowledged");
        assertFalse(ledger.dirty());
        assertArrayEquals(durable, Files.readAllBytes(counters()), "the old counters were written back");
    }

    @Test
    void aFailedCountersWriteRollsBackAndKeepsTheFile() throws Exception {
        Ledger ledger = store.load(Config.defaults()).ledger();
        byte[] durable = Files.readAllBytes(counters());
        ledger.setCounter("SEC", 9);
        Files.createDirectories(DurableFiles.tmpFor(counters()).resolve("x")); // the temp file cannot be written
        assertEquals(
                ErrorCode.SYSTEM_ERROR,
                assertThrows(TaskIdException.class, () -> store.commit(ledger, List.of()))
                        .code());
        assertEquals(0, ledger.counter("SEC"));
        assertArrayEquals(durable, Files.readAllBytes(counters()));
    }

    /**
     * The daemon answers once counters.json (carrying the batch's audit lines) is renamed and the
     * lines are written to audit.log, and syncs audit.log after: a power loss in between leaves
     * counters.json with lines audit.log lacks. The next load appends them, once. Fails without
     * the load's {@link AuditLog#ensureEndsWith}: the reservation has no audit line.
     */
    @Test
    void aLoadAppendsTheAuditLinesCountersJsonCarriesWhenAuditLogLacksThem() throws Exception {
        Allocator allocator = new Allocator(Config.defaults(), CLOCK);
        Path audit = project.resolve(".taskid/audit.log");
        try (StateLock.Held held = store.lock().tryAcquire("test").orElseThrow()) {
            Ledger ledger = store.load(Config.defaults()).ledger();
            long before = Files.size(audit);
            Request.Reserve req = new Request.Reserve(null, "SEC", 2, "lost in a power cut", null, null);
            Response r = allocator.apply(ledger, req);
            List<AuditEntry> entries = new ArrayList<>();
            AuditEntry.collect(req, r, BY, CLOCK.instant(), entries);
            store.commit(ledger, entries);
            assertTrue(Files.readString(counters()).contains("\"ids\":[\"SEC-1\",\"SEC-2\"]"), "carried");
            try (java.nio.channels.FileChannel ch =
                    java.nio.channels.FileChannel.open(audit, java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(before); // the power cut: the lines never reached the disk
            }
            store.load(Config.defaults());
            store.load(Config.defaults());
        }
        String log = Files.readString(audit);
        assertEquals(1, log.split("lost in a power cut", -1).length - 1, "appended once: " + log);
        assertTrue(log.endsWith("\n"));
    }

    @Test
    void theAuditLinesComeBackFromCountersJsonByteForByte() {
        byte[] counters = "{\"version\":1,\"gen\":3,\"counters\":{\"SEC\":2}}\n".getBytes();
        byte[] lines = "{\"op\":\"reserve\",\"purpose\":\"a,\\n\\\"b\\\"\"}\n{\"op\":\"set\"}\n".getBytes();
        byte[] file = StateFile.withAudit(counters, lines);
        assertArrayEquals(lines, StateFile.auditLines(file));
        assertArrayEquals(counters, StateFile.withAudit(counters, new byte[0]));
        assertEquals(0, StateFile.auditLines(counters).length);
    }

    /** After a crash audit.log holds a first part of the carried lines, down to a torn line: only the rest is added. */
    @Test
    void onlyTheCarriedLinesAuditLogLacksAreAppendedAndATornOneIsCompleted() {
        byte[] lines = "{\"a\":1}\n{\"b\":2}\n".getBytes();
        byte[] file = "{\"z\":0}\n{\"a\":1}\n{\"b".getBytes();
        assertEquals(11, AuditLog.carriedPrefix(file, file.length, true, lines), "torn inside the second line");
        byte[] all = "{\"z\":0}\n{\"a\":1}\n{\"b\":2}\n".getBytes();
        byte[] last = java.util.Arrays.copyOfRange(all, all.length - lines.length - 1, all.length);
        assertEquals(lines.length, AuditLog.carriedPrefix(last, last.length, false, lines), "all there");
        byte[] none = "{\"z\":0}\n".getBytes();
        assertEquals(0, AuditLog.carriedPrefix(none, none.length, true, lines));
        byte[] notAtLineStart = "x{\"a\":1}\n".getBytes();
        assertEquals(0, AuditLog.carriedPrefix(notAtLineStart, notAtLineStart.length, true, lines));
    }
}
