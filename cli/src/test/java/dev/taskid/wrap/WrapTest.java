package dev.taskid.wrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.allocator.Allocator;
import dev.taskid.allocator.Ledger;
import dev.taskid.allocator.Wrap;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.RequestCodec;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.ResponseCodec;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.Config;
import dev.taskid.state.StateFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Wrap arithmetic, config, the allocator's rules for wrapped prefixes, the state file and the codec. */
class WrapTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
    private final Json json = new Json();
    private final RequestCodec requests = new RequestCodec();
    private final ResponseCodec responses = new ResponseCodec();

    @TempDir
    Path tmp;

    private Config config(String text) throws Exception {
        Path file = tmp.resolve("config-" + System.nanoTime() + ".json");
        Files.writeString(file, text);
        return Config.load(file, json);
    }

    /** PROJECT: wrap 1000, bare (seed 001); DEV: wrap 10 with its prefix; SEC: plain. */
    private Allocator allocator() throws Exception {
        return new Allocator(
                config("{\"extraPrefixes\":[\"PROJECT\"],\"prefixOptions\":{"
                        + "\"PROJECT\":{\"wrap\":1000,\"bare\":true},\"DEV\":{\"wrap\":10}}}"),
                CLOCK);
    }

    private static Response reserve(Allocator a, Ledger l, String prefix, long count) {
        return a.apply(l, new Request.Reserve(null, prefix, count, null, null, null));
    }

    private static Response.Reserved reserved(Allocator a, Ledger l, String prefix, long count) {
        return assertInstanceOf(Response.Reserved.class, reserve(a, l, prefix, count));
    }

    private static Response.Archived archive(Allocator a, Ledger l, String prefix, Long... numbers) {
        return assertInstanceOf(
                Response.Archived.class, a.apply(l, new Request.Archive(null, prefix, List.of(numbers), false)));
    }

    @Test
    void arithmetic() {
        assertEquals(999, Wrap.number(999, 1000));
        assertEquals(0, Wrap.number(1000, 1000));
        assertEquals(42, Wrap.number(3042, 1000));
        assertEquals(1042, Wrap.number(1042, 0), "no wrap: the number is the position");
        assertEquals(0, Wrap.next(999, 1000));
        assertEquals(1, Wrap.next(0, 1000));
        assertEquals(3, Wrap.digits(1000));
        assertEquals(2, Wrap.digits(100));
        assertEquals(4, Wrap.digits(1500));
        assertEquals(1, Wrap.digits(10));
        // seed 001's next_project_number: the next number to hand out, read in the first cycle
        assertEquals(41, Wrap.floorForNext(42, 1000));
        assertEquals(999, Wrap.floorForNext(0, 1000), "next 0: 999 was the last, so 0 comes next");
        assertEquals(0, Wrap.floorForNext(1, 1000));
        assertEquals(41, Wrap.floorForNext(1042, 1000));
        assertEquals(0, Wrap.floorForNext(0, 0));
        assertEquals(41, Wrap.floorForNext(42, 0));
    }

    @Test
    void configRendersWrappedAndBareNumbers() throws Exception {
        Config c = config(
                "{\"extraPrefixes\":[\"PROJECT\"],\"prefixOptions\":{\"PROJECT\":{\"wrap\":1000,\"bare\":true},"
                        + "\"DEV\":{\"wrap\":1000},\"UX\":{\"wrap\":1000,\"width\":5},\"SEC\":{\"width\":3},\"OPS\":{\"bare\":true}}}");
        assertEquals("042", c.format("PROJECT", 42));
        assertEquals("000", c.format("PROJECT", 0));
        assertEquals("DEV-042", c.format("DEV", 42));
        assertEquals("UX-00042", c.format("UX", 42), "an explicit width wins");
        assertEquals("SEC-042", c.format("SEC", 42));
        assertEquals("42", c.format("OPS", 42), "bare without wrap");
        assertEquals("PERF-42", c.format("PERF", 42));
        assertEquals(1000, c.wrap("PROJECT"));
        assertEquals(0, c.wrap("SEC"));
        for (String bad : List.of(
                "{\"prefixOptions\":{\"SEC\":{\"wrap\":1}}}",
                "{\"prefixOptions\":{\"SEC\":{\"wrap\":10001}}}",
                "{\"prefixOptions\":{\"SEC\":{\"wrap\":-5}}}",
                "{\"prefixOptions\":{\"SEC\":{\"bare\":\"yes\"}}}")) {
            TaskIdException e = assertThrows(TaskIdException.class, () -> config(bad), bad);
            assertEquals(ErrorCode.CONFIG_INVALID, e.code());
        }
    }

    @Test
    void positionsGrowWhileNumbersWrap() throws Exception {
        Allocator a = allocator();
        Ledger l = new Ledger(Map.of("PROJECT", 997L), List.of(), Map.of("PROJECT", Map.of())); // tracked, none active
        Response.Reserved r = reserved(a, l, "PROJECT", 4);
        assertEquals(List.of(998L, 999L, 0L, 1L), r.numbers());
        assertEquals(List.of("998", "999", "000", "001"), r.ids());
        assertEquals(997, r.previous());
        assertEquals(1001, r.counter(), "the counter is a position: it never goes backwards");
        assertEquals(2, r.next(), "next is the next number, wrapped");
        assertEquals(Map.of(998L, 998L, 999L, 999L, 0L, 1000L, 1L, 1001L), l.active("PROJECT"));
        Response.Reserved d = reserved(a, l, "DEV", 3);
        assertEquals(List.of("DEV-1", "DEV-2", "DEV-3"), d.ids());
    }

    @Test
    void conflictReservesNothing() throws Exception {
        Allocator a = allocator();
        Ledger l = new Ledger();
        reserved(a, l, "DEV", 9); // 1..9 active
        l.commit();
        SortedMap<Long, Long> activeBefore = new TreeMap<>(l.active("DEV"));
        Response.Failure f = assertInstanceOf(Response.Failure.class, reserve(a, l, "DEV", 3)); // 0, 1, 2
        assertEquals(ErrorCode.NUMBER_CONFLICT, f.code());
        assertFalse(f.retry());
        assertEquals(List.of(1L, 2L), f.details().get("conflicts"));
        assertEquals(2, f.details().get("conflictCount"));
        assertEquals(0L, f.details().get("next"));
        assertTrue(f.message().contains("taskid archive DEV 1 2"), f.message());
        assertTrue(String.valueOf(f.details().get("suggestion")).startsWith("Archive completed projects"));
        assertFalse(l.dirty(), "a conflict changes nothing");
        assertEquals(9, l.counter("DEV"));
        assertEquals(activeBefore, l.active("DEV"));
        // a reservation that fits before the conflict still works: 0 is free
        assertEquals(List.of(0L), reserved(a, l, "DEV", 1).numbers());
    }

    @Test
    void archiveFreesNumbers() throws Exception {
        Allocator a = allocator();
        Ledger l = new Ledger();
        reserved(a, l, "DEV", 10); // 1..9, 0: all ten active
        assertEquals(ErrorCode.NUMBER_CONFLICT, ((Response.Failure) reserve(a, l, "DEV", 1)).code());
        Response.Archived x = archive(a, l, "DEV", 1L, 2L, 2L, 3L);
        assertEquals(List.of(1L, 2L, 3L), x.changed());
        assertEquals(List.of(0L, 4L, 5L, 6L, 7L, 8L, 9L), x.active());
        assertEquals(1, x.next());
        assertEquals(10, x.wrap());
        Response.Archived again = archive(a, l, "DEV", 1L, 4L);
        assertEquals(List.of(1L), again.unchanged(), "archiving twice is harmless (safe to retry)");
        assertEquals(List.of(4L), again.changed());
        Response.Reserved r = reserved(a, l, "DEV", 4);
        assertEquals(List.of(1L, 2L, 3L, 4L), r.numbers());
        assertEquals(14, r.counter());
        // listing: no numbers changes nothing
        l.commit();
        Response.Archived list = archive(a, l, "DEV");
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), list.active());
        assertFalse(l.dirty());
    }

    @Test
    void archiveRefusals() throws Exception {
        Allocator a = allocator();
        Ledger l = new Ledger();
        Response bad = a.apply(l, new Request.Archive(null, "SEC", List.of(1L), false));
        assertEquals(ErrorCode.BAD_REQUEST, ((Response.Failure) bad).code(), "SEC does not wrap");
        Response outside = a.apply(l, new Request.Archive(null, "DEV", List.of(3L, 10L), false));
        assertEquals(ErrorCode.INVALID_ID, ((Response.Failure) outside).code());
        Response unknown = a.apply(l, new Request.Archive(null, "NOPE", List.of(1L), false));
        assertEquals(ErrorCode.INVALID_PREFIX, ((Response.Failure) unknown).code());
        assertEquals(ErrorCode.INVALID_COUNT, ((Response.Failure) reserve(a, l, "DEV", 11)).code());
        assertFalse(l.dirty());
    }

    @Test
    void anUntrackedCounterIsNeverWrappedBlindlyAndRaisingCarriesTheSkippedNumbersOver() throws Exception {
        Allocator a = allocator();
        Ledger untracked = new Ledger(Map.of("DEV", 15L), List.of()); // handed out 1..15 before wrap 10
        Response.Failure f = assertInstanceOf(Response.Failure.class, reserve(a, untracked, "DEV", 1));
        assertEquals(ErrorCode.CONFIG_INVALID, f.code());
        assertTrue(f.message().contains("DEV") && f.message().contains("15"), f.message());

        Ledger l = new Ledger();
        assertInstanceOf(Response.CounterSet.class, a.apply(l, new Request.SetCounter(null, "DEV", 15, false)));
        assertEquals(10, l.active("DEV").size(), "every number of positions 6..15 is active");
        Response.Failure conflict = assertInstanceOf(Response.Failure.class, reserve(a, l, "DEV", 1)); // position 16: 6
        assertEquals(ErrorCode.NUMBER_CONFLICT, conflict.code());
    }

    @Test
    void restoreMarksNumbersActive() throws Exception {
        Allocator a = allocator();
        Ledger l = new Ledger(Map.of("DEV", 5L), List.of());
        Response.Archived r = assertInstanceOf(
                Response.Archived.class, a.apply(l, new Request.Archive(null, "DEV", List.of(7L, 8L), true)));
        assertEquals(List.of(7L, 8L), r.changed());
        assertEquals(Map.of(7L, 0L, 8L, 0L), l.active("DEV"), "position 0: marked by hand");
        Response.Failure f = assertInstanceOf(Response.Failure.class, reserve(a, l, "DEV", 3)); // 6, 7, 8
        assertEquals(List.of(7L, 8L), f.details().get("conflicts"));
    }

    @Test
    void keyReplaysTheSameNumbersUnlessReissued() throws Exception {
        Allocator a = allocator();
        Ledger l = new Ledger(Map.of("DEV", 8L), List.of(), Map.of("DEV", Map.of())); // tracked, none active
        Request.Reserve keyed = new Request.Reserve(null, "DEV", 3, null, null, "k1");
        Response.Reserved first = assertInstanceOf(Response.Reserved.class, a.apply(l, keyed));
        assertEquals(List.of(9L, 0L, 1L), first.numbers());
        Response.Reserved replay = assertInstanceOf(Response.Reserved.class, a.apply(l, keyed));
        assertTrue(replay.replayed());
        assertEquals(first.numbers(), replay.numbers());
        assertEquals(first.ids(), replay.ids());
        archive(a, l, "DEV", 9L, 0L, 1L);
        assertTrue(((Response.Reserved) a.apply(l, keyed)).replayed(), "archived, not reissued: still that key's");
        reserved(a, l, "DEV", 10); // 2..9, 0, 1: the key's numbers go to someone else
        Response.Failure f = assertInstanceOf(Response.Failure.class, a.apply(l, keyed));
        assertEquals(ErrorCode.NUMBER_CONFLICT, f.code());
    }

    @Test
    void validateKnowsWrappedNumbers() throws Exception {
        Allocator a = allocator();
        Ledger l = new Ledger(Map.of("DEV", 8L), List.of(), Map.of("DEV", Map.of())); // tracked, none active
        Response.Validation v = (Response.Validation)
                a.apply(l, new Request.Validate(null, List.of("DEV-5", "DEV-9", "DEV-000", "DEV-10")));
        assertEquals(
                List.of(true, false, false, false),
                v.results().stream().map(Response.Validation.Check::issued).toList());
        reserved(a, l, "DEV", 2); // 9, 0
        v = (Response.Validation) a.apply(l, new Request.Validate(null, List.of("DEV-9", "DEV-000", "DEV-0")));
        assertTrue(v.allIssued(), v.toString());
    }

    @Test
    void rollbackRestoresActiveNumbers() throws Exception {
        Allocator a = allocator();
        Ledger l = new Ledger();
        reserved(a, l, "DEV", 5);
        l.commit();
        Map<String, Long> counters = new TreeMap<>(l.counters());
        SortedMap<Long, Long> active = new TreeMap<>(l.active("DEV"));
        archive(a, l, "DEV", 1L, 2L);
        reserved(a, l, "DEV", 3);
        reserved(a, l, "PROJECT", 2); // a prefix with no active numbers before
        a.apply(l, new Request.Archive(null, "DEV", List.of(9L), true));
        assertTrue(l.dirty());
        l.rollback();
        assertEquals(counters, l.counters());
        assertEquals(active, l.active("DEV"));
        assertFalse(l.activeNumbers().containsKey("PROJECT"), "a prefix first activated in the batch is gone again");
    }

    @Test
    void failedWriteRollsBackAndKeepsTheFile() throws Exception {
        Allocator a = allocator();
        StateFile file = new StateFile(tmp.resolve("counters.json"), json, CLOCK);
        Ledger l = new Ledger();
        reserved(a, l, "DEV", 4);
        file.write(l);
        l.commit();
        byte[] durable = Files.readAllBytes(file.path());
        archive(a, l, "DEV", 1L, 2L);
        reserved(a, l, "DEV", 2);
        Files.createDirectories(
                dev.taskid.state.DurableFiles.tmpFor(file.path()).resolve("x")); // the temp file cannot be made
        TaskIdException e = assertThrows(TaskIdException.class, () -> file.write(l));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        l.rollback();
        assertEquals(
                new String(durable, StandardCharsets.UTF_8),
                new String(Files.readAllBytes(file.path()), StandardCharsets.UTF_8));
        Ledger reread = file.read().orElseThrow();
        assertEquals(reread.counters(), l.counters());
        assertEquals(reread.activeNumbers(), l.activeNumbers());
    }

    @Test
    void stateFileKeepsActiveNumbersAndReadsOldFiles() throws Exception {
        Path path = tmp.resolve("counters.json");
        StateFile file = new StateFile(path, json, CLOCK);
        // a version 1 file as written before wrap existed
        Files.writeString(
                path,
                "{\"version\":1,\"counters\":{\"SEC\":19,\"DEV\":7},\"keys\":[{\"key\":\"k1\",\"prefix\":\"SEC\","
                        + "\"count\":2,\"first\":18,\"at\":\"2026-11-25T09:00:00Z\"}]}\n");
        Ledger old = file.read().orElseThrow();
        assertEquals(19, old.counter("SEC"));
        assertEquals(18, old.key("k1").first());
        assertTrue(old.activeNumbers().isEmpty());
        file.write(old);
        assertTrue(Files.readString(path).contains("\"version\":1"), "no active numbers: still version 1");

        Allocator a = allocator();
        // what loading does for DEV (wrap 10 now): 1..7 were handed out before the active set knew them
        Wrap.carryOver(old, "DEV", 0, 7, 10);
        assertEquals(7, old.active("DEV").size());
        archive(a, old, "DEV", 1L, 2L, 3L, 4L, 5L, 6L, 7L); // their holders say they are done
        reserved(a, old, "DEV", 4); // 8, 9, 0, 1
        archive(a, old, "DEV", 9L);
        file.write(old);
        String text = Files.readString(path);
        assertTrue(text.contains("\"version\":2"), text);
        Ledger back = file.read().orElseThrow();
        assertEquals(Map.of(8L, 8L, 0L, 10L, 1L, 11L), back.active("DEV"));
        assertEquals(11, back.counter("DEV"));
        assertEquals(old.counters(), back.counters());
        // every number archived: the prefix stays listed, so the file stays version 2
        archive(a, back, "DEV", 8L, 0L, 1L);
        file.write(back);
        assertTrue(Files.readString(path).contains("\"version\":2"));
        assertTrue(file.read().orElseThrow().activeNumbers().containsKey("DEV"));

        Files.writeString(path, "{\"version\":3,\"counters\":{}}");
        assertEquals(
                ErrorCode.STATE_CORRUPT,
                assertThrows(TaskIdException.class, file::read).code());
        Files.writeString(path, "{\"version\":2,\"counters\":{\"DEV\":1},\"active\":{\"DEV\":{\"x\":1}}}");
        assertEquals(
                ErrorCode.STATE_CORRUPT,
                assertThrows(TaskIdException.class, file::read).code());
        Files.writeString(path, "{\"version\":2,\"counters\":{\"DEV\":1},\"active\":{\"DEV\":null}}");
        assertEquals(
                ErrorCode.STATE_CORRUPT,
                assertThrows(TaskIdException.class, file::read).code());
    }

    @Test
    void churnCheckerSeesViolations() {
        // client 0 holds 1, 2; client 1 gets 2 while 0 holds it; then 0 archives 1 at counter 4
        WrapChurn.Checked bad = WrapChurn.check(List.of("R 0 2 1 2\nA 4 1\n", "R 2 4 3 2\nC\n"));
        assertEquals(1, bad.problems().size(), bad.problems().toString());
        assertTrue(bad.problems().get(0).contains("number 2 handed to client 1 while client 0 holds it"));
        // the same, but 0 archived 2 before 1's reservation (at counter 2): fine
        WrapChurn.Checked good = WrapChurn.check(List.of("R 0 2 1 2\nA 2 2\n", "R 2 4 3 2\nC\n"));
        assertTrue(good.problems().isEmpty(), good.problems().toString());
        assertEquals(java.util.Set.of(1L, 2L, 3L), good.active());
        assertEquals(2, good.reservations());
        assertEquals(1, good.conflicts());
    }

    @Test
    void codecBothWays() throws Exception {
        Request.Archive req = new Request.Archive(null, "DEV", List.of(1L, 0L), true);
        byte[] line = requests.encode(req);
        assertEquals(
                "{\"op\":\"archive\",\"prefix\":\"DEV\",\"numbers\":[1,0],\"restore\":true}",
                new String(line, StandardCharsets.UTF_8));
        assertEquals(req, requests.decode(line));
        Request plain =
                requests.decode("{\"id\":7,\"op\":\"archive\",\"prefix\":\"DEV\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals(new Request.Archive(dev.taskid.protocol.RequestId.of(7), "DEV", List.of(), false), plain);
        assertTrue(plain.mutates());
        var bad = assertThrows(
                dev.taskid.protocol.ProtocolException.class,
                () -> requests.decode("{\"op\":\"archive\",\"prefix\":\"DEV\",\"numbers\":[\"1\"]}"
                        .getBytes(StandardCharsets.UTF_8)));
        assertEquals(ErrorCode.BAD_REQUEST, bad.code());

        Response.Archived resp = new Response.Archived(
                dev.taskid.protocol.RequestId.of("a"),
                "DEV",
                false,
                List.of(1L),
                List.of(2L),
                List.of(0L, 3L),
                10,
                13,
                4);
        byte[] out = responses.encode(resp);
        assertEquals(
                "{\"id\":\"a\",\"ok\":true,\"prefix\":\"DEV\",\"changed\":[1],\"unchanged\":[2],\"active\":[0,3],"
                        + "\"wrap\":10,\"counter\":13,\"next\":4}",
                new String(out, StandardCharsets.UTF_8));
        assertEquals(resp, responses.decode(out, "archive"));
    }
}
