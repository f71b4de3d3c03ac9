package dev.taskid.allocator;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.ProtocolException;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.RequestCodec;
import dev.taskid.protocol.RequestId;
import dev.taskid.protocol.Response;
import dev.taskid.state.Config;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The allocation rules on an in-memory ledger (wrapped prefixes: WrapTest). */
class AllocatorTest {
    private final TestClock clock = new TestClock(Instant.parse("2026-11-25T10:00:00.123456789Z"));
    private final Allocator allocator = new Allocator(Config.defaults(), clock);
    private final Ledger ledger = new Ledger();

    @TempDir
    Path tmp;

    /** A clock the test moves forward. */
    static final class TestClock extends Clock {
        private Instant now;

        TestClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    private Response apply(Request r) {
        return allocator.apply(ledger, r);
    }

    private Response reserve(String prefix, long count, String key) {
        return apply(new Request.Reserve(RequestId.of(1), prefix, count, null, null, key));
    }

    private Response.Reserved reserved(String prefix, long count, String key) {
        return assertInstanceOf(Response.Reserved.class, reserve(prefix, count, key));
    }

    private Response.Failure fails(ErrorCode code, Response r) {
        Response.Failure f = assertInstanceOf(Response.Failure.class, r);
        assertEquals(code, f.code(), f.message());
        assertEquals(RequestId.of(1), f.id(), "the id is echoed");
        return f;
    }

    /** A refusal leaves the ledger as it was, with nothing to roll back. */
    private Response.Failure refused(ErrorCode code, Response r) {
        TreeMap<String, Long> before = new TreeMap<>(ledger.counters());
        Response.Failure f = fails(code, r);
        assertFalse(ledger.dirty(), "a refusal changes nothing");
        assertEquals(before, ledger.counters());
        return f;
    }

    @Test
    void reserveHandsOutConsecutiveNumbersAfterTheCounter() {
        Response.Reserved first = reserved("SEC", 3, null);
        assertEquals(List.of("SEC-1", "SEC-2", "SEC-3"), first.ids());
        assertEquals(List.of(1L, 2L, 3L), first.numbers());
        assertEquals(0, first.previous());
        assertEquals(3, first.counter());
        assertEquals(4, first.next());
        assertFalse(first.replayed());
        assertEquals(Instant.parse("2026-11-25T10:00:00.123Z"), first.reservedAt(), "milliseconds, truncated");
        assertEquals(RequestId.of(1), first.id());

        Response.Reserved second = reserved("SEC", 1, null);
        assertEquals(List.of("SEC-4"), second.ids());
        assertEquals(3, second.previous());
        assertEquals(4, second.counter());
        assertEquals(5, second.next());
        assertEquals(4, ledger.counter("SEC"));
        assertEquals(0, ledger.counter("UX"), "other prefixes are independent");
        assertTrue(ledger.dirty());
    }

    @Test
    void reserveContinuesFromALoadedCounterWithTheConfiguredWidth() {
        Config config = new Config(
                Set.of("SEC"), 1000, Duration.ofSeconds(5), Set.of(), Map.of("SEC", new Config.PrefixOptions(3)));
        Ledger l = new Ledger(Map.of("SEC", 19L), List.of());
        Response.Reserved r = assertInstanceOf(
                Response.Reserved.class,
                new Allocator(config, clock).apply(l, new Request.Reserve(null, "SEC", 2, null, null, null)));
        assertEquals(List.of("SEC-020", "SEC-021"), r.ids());
        assertEquals(List.of(20L, 21L), r.numbers());
        assertEquals(19, r.previous());
    }

    @Test
    void maxBatchIsAllowedAndOneMoreIsNot() {
        Response.Reserved big = reserved("SEC", Config.DEFAULT_MAX_BATCH, null);
        assertEquals(1000, big.ids().size());
        assertEquals("SEC-1000", big.ids().get(999));
        ledger.commit();
        Response.Failure f = refused(ErrorCode.INVALID_COUNT, reserve("SEC", Config.DEFAULT_MAX_BATCH + 1, null));
        assertEquals(Map.of("min", 1, "max", 1000), f.details());
        assertTrue(f.message().contains("1 to 1000"), f.message());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "0",
                "-1",
                "-1000",
                "1001",
                "1000000000000",
                "1000000000000000",
                "9223372036854775807",
                "-9223372036854775808",
                "99999999999999999999",
                "1.5",
                "1e2",
                "\"3\"",
                "{}"
            })
    void badCountsFromTheWireAreInvalidCount(String count) {
        // the codec refuses what is not an integer, the allocator what is out of range: same code
        String line = "{\"id\":1,\"op\":\"reserve\",\"prefix\":\"SEC\",\"count\":" + count + "}";
        ErrorCode code;
        try {
            code = assertInstanceOf(Response.Failure.class, apply(new RequestCodec().decode(line.getBytes(UTF_8))))
                    .code();
        } catch (ProtocolException e) {
            code = e.code();
        }
        assertEquals(ErrorCode.INVALID_COUNT, code, line);
        assertEquals(0, ledger.counter("SEC"));
        assertFalse(ledger.dirty());
    }

    @Test
    void configuredMaxBatchApplies() {
        Config config = new Config(Set.of("SEC"), 5, Duration.ofSeconds(5), Set.of(), Map.of());
        Allocator small = new Allocator(config, clock);
        assertEquals(
                5,
                assertInstanceOf(
                                Response.Reserved.class,
                                small.apply(ledger, new Request.Reserve(null, "SEC", 5, null, null, null)))
                        .ids()
                        .size());
        assertEquals(
                ErrorCode.INVALID_COUNT,
                assertInstanceOf(
                                Response.Failure.class,
                                small.apply(ledger, new Request.Reserve(null, "SEC", 6, null, null, null)))
                        .code());
    }

    @Test
    void overflowIsRefusedNeverWrapped() {
        ledger.setCounter("SEC", Protocol.MAX_NUMBER - 2);
        ledger.commit();
        Response.Failure f = refused(ErrorCode.COUNTER_OVERFLOW, reserve("SEC", 3, null));
        assertEquals(Map.of("counter", Protocol.MAX_NUMBER - 2, "max", Protocol.MAX_NUMBER), f.details());

        Response.Reserved last = reserved("SEC", 2, null);
        assertEquals(List.of("SEC-999999999999998", "SEC-999999999999999"), last.ids());
        assertEquals(Protocol.MAX_NUMBER, last.counter());
        ledger.commit();
        refused(ErrorCode.COUNTER_OVERFLOW, reserve("SEC", 1, null));
        refused(ErrorCode.COUNTER_OVERFLOW, reserve("SEC", 1000, null));
        assertEquals(Protocol.MAX_NUMBER, ledger.counter("SEC"));
    }

    @Test
    void invalidPrefixListsTheValidOnes() {
        Response.Failure unknown = refused(ErrorCode.INVALID_PREFIX, reserve("FOO", 1, null));
        assertEquals(Map.of("valid", Config.DEFAULT_PREFIXES), unknown.details());
        assertTrue(unknown.message().contains("\"FOO\""), unknown.message());
        assertTrue(unknown.message().contains(String.join(", ", Config.DEFAULT_PREFIXES)), unknown.message());

        Response.Failure malformed = refused(ErrorCode.INVALID_PREFIX, reserve("sec", 1, null));
        assertTrue(malformed.message().contains("upper-case letter"), malformed.message());
        refused(ErrorCode.INVALID_PREFIX, reserve("", 1, null));
        refused(ErrorCode.INVALID_PREFIX, apply(new Request.Peek(RequestId.of(1), "FOO")));
        refused(ErrorCode.INVALID_PREFIX, apply(new Request.SetCounter(RequestId.of(1), "FOO", 3, false)));
        refused(ErrorCode.INVALID_PREFIX, apply(new Request.Archive(RequestId.of(1), "FOO", List.of(), false)));
    }

    @Test
    void peekShowsOneOrAllConfiguredPrefixes() {
        reserved("UX", 2, null);
        Response.Counters all = assertInstanceOf(Response.Counters.class, apply(new Request.Peek(null, null)));
        assertEquals(Set.copyOf(Config.DEFAULT_PREFIXES), all.counters().keySet());
        assertEquals(2L, all.counters().get("UX"));
        assertEquals(0L, all.counters().get("SEC"));
        Response.Counters one = assertInstanceOf(Response.Counters.class, apply(new Request.Peek(null, "UX")));
        assertEquals(Map.of("UX", 2L), one.counters());
    }

    @Test
    void setRaisesAndLowersOnlyWithForce() {
        Response.CounterSet raised =
                assertInstanceOf(Response.CounterSet.class, apply(new Request.SetCounter(null, "SEC", 30, false)));
        assertEquals(0, raised.previous());
        assertEquals(30, raised.counter());
        assertEquals(30, ledger.counter("SEC"));
        ledger.commit();

        Response.Failure lower =
                refused(ErrorCode.COUNTER_DECREASE, apply(new Request.SetCounter(RequestId.of(1), "SEC", 29, false)));
        assertEquals(Map.of("counter", 30L), lower.details());
        assertTrue(lower.message().contains("--force"), lower.message());

        Response.CounterSet forced =
                assertInstanceOf(Response.CounterSet.class, apply(new Request.SetCounter(null, "SEC", 10, true)));
        assertEquals(30, forced.previous());
        assertEquals(10, forced.counter());
        assertEquals("SEC-11", reserved("SEC", 1, null).ids().get(0), "lowered: IDs repeat, as the warning says");
        ledger.commit();

        Response.CounterSet same =
                assertInstanceOf(Response.CounterSet.class, apply(new Request.SetCounter(null, "SEC", 11, false)));
        assertEquals(11, same.previous());
        assertFalse(ledger.dirty(), "setting the current value changes nothing");
    }

    @Test
    void setOutsideTheNumberRangeIsRefused() {
        refused(
                ErrorCode.COUNTER_OVERFLOW,
                apply(new Request.SetCounter(RequestId.of(1), "SEC", Protocol.MAX_NUMBER + 1, true)));
        refused(
                ErrorCode.BAD_REQUEST,
                apply(new Request.SetCounter(RequestId.of(1), "SEC", -1, true))); // not a number range: a usage error
        assertInstanceOf(
                Response.CounterSet.class, apply(new Request.SetCounter(null, "SEC", Protocol.MAX_NUMBER, false)));
    }

    @Test
    void initRaisesToTheHighestIdAndNeverLowers() throws Exception {
        ledger.setCounter("SEC", 25);
        ledger.commit();
        Response.Initialized r = assertInstanceOf(
                Response.Initialized.class,
                apply(new Request.Init(
                        null, "| SEC-19 | old |\n| UX-3 |\n| FOO-99 |", Map.of("DOC", 7L, "UX", 4L, "PERF", 2L))));
        assertEquals(2, r.found(), "FOO is not a prefix");
        assertEquals(Map.of("SEC", 25L, "UX", 0L, "PERF", 0L, "DOC", 0L), r.before());
        assertEquals(Map.of("SEC", 25L, "UX", 4L, "PERF", 2L, "DOC", 7L), r.after());
        assertEquals(Map.of("SEC", 25L, "UX", 4L, "PERF", 2L, "DOC", 7L), ledger.counters());
        ledger.commit();

        Response.Initialized again = assertInstanceOf(
                Response.Initialized.class, apply(new Request.Init(null, "| SEC-19 | old |\n| UX-3 |", Map.of())));
        assertEquals(again.before(), again.after(), "idempotent");
        assertFalse(ledger.dirty());
    }

    @Test
    void initRefusalsChangeNothing() {
        ledger.setCounter("SEC", 5);
        ledger.commit();
        Response.Failure unknown = refused(
                ErrorCode.INVALID_PREFIX,
                apply(new Request.Init(RequestId.of(1), "SEC-50", Map.of("SEC", 9L, "NOPE", 1L))));
        assertEquals(List.of("NOPE"), unknown.details().get("invalid"));
        refused(
                ErrorCode.COUNTER_OVERFLOW,
                apply(new Request.Init(RequestId.of(1), "SEC-50", Map.of("UX", Protocol.MAX_NUMBER + 1))));
        assertEquals(5, ledger.counter("SEC"));
    }

    @Test
    void validateSaysWhichIdsWereIssuedAndWhy() {
        reserved("SEC", 20, null);
        Response.Validation v = assertInstanceOf(
                Response.Validation.class,
                apply(new Request.Validate(
                        null, List.of("SEC-20", "SEC-019", "SEC-21", "FOO-1", "hello", "SEC-0", "sec-1"))));
        assertFalse(v.allIssued());
        List<Response.Validation.Check> c = v.results();
        assertEquals(7, c.size());
        assertEquals(new Response.Validation.Check("SEC-20", true, null), c.get(0));
        assertEquals(new Response.Validation.Check("SEC-019", true, null), c.get(1));
        assertFalse(c.get(2).issued());
        assertTrue(c.get(2).reason().contains("SEC-20"), c.get(2).reason());
        assertTrue(c.get(3).reason().contains("unknown prefix FOO"), c.get(3).reason());
        for (int i = 4; i < 7; i++) {
            assertTrue(c.get(i).reason().contains("not a task ID"), c.get(i).reason());
        }
        assertTrue(assertInstanceOf(
                        Response.Validation.class, apply(new Request.Validate(null, List.of("SEC-1", "SEC-20"))))
                .allIssued());
    }

    // ------------------------------------------------------------------ idempotency keys

    @Test
    void sameKeyAndArgumentsReplayTheSameIds() {
        Response.Reserved first = reserved("SEC", 2, "k1");
        ledger.commit();
        reserved("SEC", 1, null);
        ledger.commit();
        clock.advance(Duration.ofHours(1));
        Response.Reserved again = reserved("SEC", 2, "k1");
        assertTrue(again.replayed());
        assertEquals(first.ids(), again.ids());
        assertEquals(first.numbers(), again.numbers());
        assertEquals(first.previous(), again.previous());
        assertEquals(first.counter(), again.counter());
        assertEquals(first.reservedAt(), again.reservedAt(), "the original reservation's time");
        assertEquals(3, ledger.counter("SEC"), "a replay hands out nothing new");
        assertFalse(ledger.dirty(), "a replay changes nothing");
    }

    @Test
    void sameKeyWithOtherArgumentsIsKeyReused() {
        reserved("SEC", 2, "k1");
        ledger.commit();
        Response.Failure f = refused(ErrorCode.KEY_REUSED, reserve("SEC", 3, "k1"));
        assertEquals(Map.of("prefix", "SEC", "count", 2L), f.details());
        refused(ErrorCode.KEY_REUSED, reserve("UX", 2, "k1"));
        assertTrue(reserved("UX", 2, "k2").ids().contains("UX-1"), "another key is independent");
    }

    @Test
    void keyLengthIsBounded() {
        refused(ErrorCode.BAD_REQUEST, reserve("SEC", 1, ""));
        refused(ErrorCode.BAD_REQUEST, reserve("SEC", 1, "k".repeat(201)));
        assertFalse(reserved("SEC", 1, "k".repeat(200)).replayed());
    }

    @Test
    void refusedReservationsRememberNoKey() {
        refused(ErrorCode.INVALID_COUNT, reserve("SEC", 0, "k1"));
        assertNull(ledger.key("k1"));
        assertFalse(reserved("SEC", 1, "k1").replayed());
    }

    @Test
    void keysAreForgottenAfterTenThousandNewerOnes() {
        reserved("SEC", 1, "first");
        for (int i = 0; i < Ledger.MAX_KEYS - 1; i++) {
            reserved("UX", 1, "k" + i);
        }
        ledger.commit();
        assertEquals(Ledger.MAX_KEYS, ledger.keys().size());
        assertTrue(reserved("SEC", 1, "first").replayed(), "still one of the last 10,000");
        reserved("UX", 1, "one-more");
        ledger.commit();
        assertEquals(Ledger.MAX_KEYS, ledger.keys().size());
        assertNull(ledger.key("first"));
        Response.Reserved fresh = reserved("SEC", 1, "first");
        assertFalse(fresh.replayed(), "forgotten: a new reservation");
        assertEquals(List.of("SEC-2"), fresh.ids());
    }

    @Test
    void keysAreForgottenAfterADay() {
        reserved("SEC", 1, "old");
        clock.advance(Ledger.KEY_TTL);
        reserved("SEC", 1, "exactly-a-day-later");
        assertTrue(reserved("SEC", 1, "old").replayed(), "24 h old: kept");
        clock.advance(Duration.ofMillis(1));
        reserved("SEC", 1, "later");
        assertNull(ledger.key("old"), "older than 24 h: forgotten when a newer key is stored");
        assertTrue(reserved("SEC", 1, "exactly-a-day-later").replayed());
        assertFalse(reserved("SEC", 1, "old").replayed());
    }

    // ------------------------------------------------------------------ rollback and commit

    @Test
    void rollbackUndoesEverythingSinceTheLastCommit() {
        reserved("SEC", 5, "k0");
        apply(new Request.SetCounter(null, "UX", 7, false));
        ledger.commit();
        Map<String, Long> durable = Map.copyOf(ledger.counters());

        reserved("SEC", 3, "k1");
        apply(new Request.SetCounter(null, "UX", 2, true));
        apply(new Request.SetCounter(null, "DOC", 4, false));
        apply(new Request.Init(null, "PERF-9", Map.of()));
        assertTrue(ledger.dirty());
        ledger.rollback();

        assertFalse(ledger.dirty());
        assertEquals(durable, ledger.counters());
        assertFalse(ledger.counters().containsKey("DOC"), "a prefix new since the commit is gone again");
        assertNull(ledger.key("k1"));
        assertTrue(reserved("SEC", 5, "k0").replayed());
        assertEquals(
                List.of("SEC-6", "SEC-7", "SEC-8"),
                reserved("SEC", 3, "k1").ids(),
                "rolled-back numbers were never acknowledged: handed out again");
        ledger.rollback();
        ledger.rollback(); // nothing left to undo
        assertEquals(durable, ledger.counters());
    }

    @Test
    void rollbackBringsBackKeysEvictedSinceTheCommit() {
        for (int i = 0; i < Ledger.MAX_KEYS; i++) {
            ledger.putKey(new Ledger.KeyRecord("k" + i, "SEC", 1, i + 1, clock.instant()));
        }
        ledger.commit();
        List<String> order = ledger.keys().stream().map(Ledger.KeyRecord::key).toList();

        reserved("SEC", 1, "new-1");
        reserved("SEC", 1, "new-2");
        assertNull(ledger.key("k0"));
        assertNull(ledger.key("k1"));
        ledger.rollback();

        assertEquals(order, ledger.keys().stream().map(Ledger.KeyRecord::key).toList(), "same keys, same order");
        reserved("SEC", 1, "new-3");
        assertNull(ledger.key("k0"), "the oldest is evicted first again");
        assertTrue(ledger.key("k1") != null);
    }

    @Test
    void commitMakesChangesPermanent() {
        reserved("SEC", 2, "k");
        ledger.commit();
        assertFalse(ledger.dirty());
        ledger.rollback();
        assertEquals(2, ledger.counter("SEC"));
        assertTrue(ledger.key("k") != null);
    }

    @Test
    void ledgerCopiesWhatItIsGiven() {
        TreeMap<String, Long> counters = new TreeMap<>(Map.of("SEC", 3L));
        Ledger l = new Ledger(counters, List.of(new Ledger.KeyRecord("k", "SEC", 1, 3, clock.instant())));
        counters.put("SEC", 100L);
        assertEquals(3, l.counter("SEC"));
        assertFalse(l.dirty());
        assertEquals(LongStream.of(3).boxed().toList(), List.of(l.key("k").first()));
    }
}
