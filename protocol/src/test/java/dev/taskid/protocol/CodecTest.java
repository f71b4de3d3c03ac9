package dev.taskid.protocol;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The request and response codecs: round trips of every message type, and the error code of every kind of bad line. */
class CodecTest {
    private static final Instant AT = Instant.parse("2026-11-25T10:00:00.123Z");
    private final RequestCodec requests = new RequestCodec();
    private final ResponseCodec responses = new ResponseCodec();

    static Stream<Request> requests() {
        return Stream.of(
                new Request.Hello(RequestId.of(1), 1),
                new Request.Hello(null, 7),
                new Request.Reserve(RequestId.of("r-1"), "SEC", 3, "review \"auth\"", "claude-1", "k1"),
                new Request.Reserve(null, "UX", 1, null, null, null),
                new Request.Peek(RequestId.of(-5), "SEC"),
                new Request.Peek(null, null),
                new Request.Validate(RequestId.of("v"), List.of("SEC-20", "nonsense", "")),
                new Request.SetCounter(RequestId.of(9), "SEC", 0, true),
                new Request.SetCounter(null, "SEC", Protocol.MAX_NUMBER, false),
                new Request.Init(RequestId.of("i"), "| SEC-19 |", Map.of("SEC", 4L, "UX", 0L)),
                new Request.Init(null, null, Map.of()),
                new Request.Archive(RequestId.of(3), "PROJECT", List.of(0L, 42L), false),
                new Request.Stats(RequestId.of(Long.MAX_VALUE)),
                new Request.Ping(RequestId.of(Long.MIN_VALUE)),
                new Request.Ping(null));
    }

    @ParameterizedTest
    @MethodSource("requests")
    void everyRequestSurvivesARoundTrip(Request request) throws Exception {
        byte[] line = requests.encode(request);
        assertFalse(contains(line, (byte) '\n'), "one line");
        assertEquals(request, requests.decode(line));
    }

    @Test
    void requestSamplesCoverEveryRequestType() {
        assertEquals(permitted(Request.class), requests().map(Object::getClass).collect(Collectors.toSet()));
    }

    static Stream<Object[]> responses() {
        return Stream.of(
                new Object[] {
                    "reserve",
                    new Response.Reserved(
                            RequestId.of(2),
                            "SEC",
                            List.of("SEC-20", "SEC-21"),
                            List.of(20L, 21L),
                            19,
                            21,
                            22,
                            AT,
                            false)
                },
                new Object[] {
                    "reserve",
                    new Response.Reserved(null, "SEC", List.of("SEC-020"), List.of(20L), 19, 20, 21, AT, true)
                },
                new Object[] {
                    "peek", new Response.Counters(RequestId.of("p"), new TreeMap<>(Map.of("SEC", 19L, "UX", 0L)))
                },
                new Object[] {
                    "validate",
                    new Response.Validation(
                            RequestId.of(4),
                            List.of(
                                    new Response.Validation.Check("SEC-20", true, null),
                                    new Response.Validation.Check("SEC-99", false, "counter at SEC-20")))
                },
                new Object[] {"set", new Response.CounterSet(RequestId.of(5), "SEC", 19, 30)},
                new Object[] {
                    "init",
                    new Response.Initialized(
                            null, 3, new TreeMap<>(Map.of("SEC", 0L)), new TreeMap<>(Map.of("SEC", 19L)))
                },
                new Object[] {
                    "archive",
                    new Response.Archived(
                            RequestId.of(6), "PROJECT", true, List.of(1L), List.of(), List.of(1L, 7L), 1000, 1007, 8)
                },
                new Object[] {
                    "hello",
                    new Response.Hello(
                            RequestId.of(1),
                            1,
                            "0.1.0",
                            List.of("reserve", "peek"),
                            4242,
                            "/repo/.taskid",
                            "e-1",
                            "daemon")
                },
                new Object[] {
                    "stats",
                    new Response.Stats(
                            RequestId.of(7),
                            Map.of(
                                    "requests",
                                    12L,
                                    "mode",
                                    "daemon",
                                    "latency",
                                    Map.of("p50", 1.5),
                                    "prefixes",
                                    List.of("SEC", "UX")))
                },
                new Object[] {"ping", new Response.Pong(RequestId.of("x"))},
                new Object[] {
                    "reserve",
                    Response.Failure.of(
                            RequestId.of(8),
                            ErrorCode.INVALID_PREFIX,
                            "Invalid prefix \"FOO\"",
                            Map.of("valid", List.of("SEC", "UX"), "max", 1000L))
                },
                new Object[] {"ping", new Response.Failure(null, ErrorCode.BUSY, "busy", false, Map.of())});
    }

    @ParameterizedTest
    @MethodSource("responses")
    void everyResponseSurvivesARoundTrip(String op, Response response) throws Exception {
        byte[] line = responses.encode(response);
        assertFalse(contains(line, (byte) '\n'), "one line");
        assertEquals(response, responses.decode(line, op));
    }

    @Test
    void responseSamplesCoverEveryResponseType() {
        assertEquals(
                permitted(Response.class), responses().map(a -> a[1].getClass()).collect(Collectors.toSet()));
    }

    /**
     * hello and reserve, the requests of every CLI call, are written with JsonWriter: the very
     * bytes Jackson's generator wrote for them before (escapes, non-ASCII, absent fields, ids).
     */
    @Test
    void helloAndReserveAreTheBytesJacksonsGeneratorWrites() {
        dev.taskid.json.Json json = new dev.taskid.json.Json();
        String odd = "q\"b\\s\n\t\u0001\u2028 é 検証 🚀 \ud800";
        List<Request> calls = List.of(
                new Request.Hello(null, 1),
                new Request.Hello(RequestId.of(7), Protocol.VERSION),
                new Request.Hello(RequestId.of(odd), -3),
                new Request.Reserve(null, "SEC", 1, null, null, null),
                new Request.Reserve(RequestId.of(Long.MIN_VALUE), "UX", Long.MAX_VALUE, odd, odd, odd),
                new Request.Reserve(RequestId.of("r"), odd, 0, "", null, "k"));
        for (Request r : calls) {
            byte[] jackson = json.write(g -> {
                g.writeStartObject();
                if (r.id() != null) {
                    g.writeFieldName("id");
                    if (r.id().numeric()) {
                        g.writeNumber(r.id().text());
                    } else {
                        g.writeString(r.id().text());
                    }
                }
                g.writeStringField("op", r.op());
                if (r instanceof Request.Hello h) {
                    g.writeNumberField("protocol", h.protocol());
                } else if (r instanceof Request.Reserve v) {
                    g.writeStringField("prefix", v.prefix());
                    g.writeNumberField("count", v.count());
                    for (String[] f :
                            new String[][] {{"purpose", v.purpose()}, {"agent", v.agent()}, {"key", v.key()}}) {
                        if (f[1] != null) {
                            g.writeStringField(f[0], f[1]);
                        }
                    }
                }
                g.writeEndObject();
            });
            assertEquals(text(jackson), text(requests.encode(r)), r.toString());
            assertTrue(Arrays.equals(jackson, requests.encode(r)), r.toString());
        }
    }

    @Test
    void reserveResponseHasTheDocumentedShape() {
        Response.Reserved r = new Response.Reserved(
                RequestId.of(2),
                "SEC",
                List.of("SEC-20", "SEC-21"),
                List.of(20L, 21L),
                19,
                21,
                22,
                Instant.parse("2026-11-25T10:00:00Z"),
                false);
        assertEquals(
                "{\"id\":2,\"ok\":true,\"prefix\":\"SEC\",\"ids\":[\"SEC-20\",\"SEC-21\"],\"numbers\":[20,21],"
                        + "\"previous\":19,\"counter\":21,\"next\":22,\"reservedAt\":\"2026-11-25T10:00:00.000Z\"}",
                text(responses.encode(r)));
        Response.Reserved replay = new Response.Reserved(
                null,
                "SEC",
                List.of("SEC-20"),
                List.of(20L),
                19,
                20,
                21,
                Instant.parse("2026-11-25T10:00:00.987654321Z"),
                true);
        assertTrue(
                text(responses.encode(replay))
                        .endsWith("\"reservedAt\":\"2026-11-25T10:00:00.987Z\",\"replayed\":true}"),
                "milliseconds, truncated like JavaScript's toISOString; replayed only when true");
    }

    @Test
    void requestIdIsEchoedAsSentStringOrNumber() throws Exception {
        Request numeric = requests.decode(bytes("{\"id\":42,\"op\":\"ping\"}"));
        assertEquals(RequestId.of(42), numeric.id());
        assertEquals("{\"id\":42,\"ok\":true}", text(responses.encode(new Response.Pong(numeric.id()))));

        Request string = requests.decode(bytes("{\"id\":\"42\",\"op\":\"ping\"}"));
        assertEquals(RequestId.of("42"), string.id());
        assertEquals("{\"id\":\"42\",\"ok\":true}", text(responses.encode(new Response.Pong(string.id()))));

        Request none = requests.decode(bytes("{\"op\":\"ping\"}"));
        assertNull(none.id());
        assertEquals("{\"ok\":true}", text(responses.encode(new Response.Pong(null))));
        assertNull(requests.decode(bytes("{\"id\":null,\"op\":\"ping\"}")).id(), "null id = no id");

        Request odd = requests.decode(bytes("{\"id\":\"a\\\"b\\n\u00e9\",\"op\":\"ping\"}"));
        assertEquals(RequestId.of("a\"b\n\u00e9"), odd.id());
        byte[] echoed = responses.encode(new Response.Pong(odd.id()));
        assertFalse(contains(echoed, (byte) '\n'));
        assertEquals(odd.id(), responses.decode(echoed, "ping").id());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.5", "true", "[1]", "{}", "123456789012345678901234567890"})
    void idOfAnotherTypeIsABadRequest(String id) {
        ProtocolException e = decodeFails("{\"id\":" + id + ",\"op\":\"ping\"}");
        assertEquals(ErrorCode.BAD_REQUEST, e.code());
        assertNull(e.requestId());
    }

    @Test
    void errorsAfterTheIdEchoIt() {
        ProtocolException unknown = decodeFails("{\"id\":7,\"op\":\"launch\"}");
        assertEquals(ErrorCode.UNKNOWN_OP, unknown.code());
        assertTrue(unknown.getMessage().contains("launch"), unknown.getMessage());
        assertEquals(RequestId.of(7), unknown.toFailure().id());
        assertFalse(unknown.toFailure().retry());

        ProtocolException missing = decodeFails("{\"id\":\"abc\",\"op\":\"reserve\"}");
        assertEquals(ErrorCode.BAD_REQUEST, missing.code());
        assertTrue(missing.getMessage().contains("prefix"), missing.getMessage());
        assertEquals(RequestId.of("abc"), missing.toFailure().id());
    }

    @Test
    void unicodeSurvivesAndStaysOneLine() throws Exception {
        String purpose = "Überprüfung — 検証 🚀 line\nbreak\u2028sep\ttab \u0000nul";
        Request.Reserve r = new Request.Reserve(RequestId.of("ü"), "SEC", 1, purpose, "agent-ä", "ключ");
        byte[] line = requests.encode(r);
        assertFalse(contains(line, (byte) '\n'));
        assertFalse(contains(line, (byte) 0));
        assertEquals(r, requests.decode(line));
        // UTF-8 as sent by other languages' JSON libraries, escaped or not
        Request raw =
                requests.decode(bytes("{\"op\":\"reserve\",\"prefix\":\"SEC\",\"purpose\":\"検証 \\ud83d\\ude80\"}"));
        assertEquals("検証 🚀", ((Request.Reserve) raw).purpose());
    }

    @Test
    void invalidUtf8IsABadRequest() {
        byte[] line = bytes("{\"op\":\"ping\",\"x\":\"..\"}");
        line[line.length - 4] = (byte) 0xC3; // a lead byte followed by an ASCII byte
        line[line.length - 3] = (byte) 0x28;
        assertEquals(
                ErrorCode.BAD_REQUEST,
                assertThrows(ProtocolException.class, () -> requests.decode(line))
                        .code());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                " ",
                "{",
                "}",
                "null",
                "[]",
                "\"ping\"",
                "42",
                "{\"op\":\"ping\"",
                "{op:\"ping\"}",
                "{'op':'ping'}",
                "{\"op\":\"ping\"} {\"op\":\"ping\"}",
                "{\"op\":\"ping\"}x",
                "{\"op\":\"ping\",}",
                "{\"op\":ping}",
                "{}",
                "{\"op\":null}",
                "{\"op\":1}",
                "{\"op\":[\"ping\"]}",
                "{\"op\":\"reserve\"}",
                "{\"op\":\"reserve\",\"prefix\":5}",
                "{\"op\":\"reserve\",\"prefix\":null}",
                "{\"op\":\"reserve\",\"prefix\":\"SEC\",\"purpose\":5}",
                "{\"op\":\"reserve\",\"prefix\":\"SEC\",\"key\":{}}",
                "{\"op\":\"reserve\",\"prefix\":\"SEC\",\"agent\":true}",
                "{\"op\":\"peek\",\"prefix\":[\"SEC\"]}",
                "{\"op\":\"validate\"}",
                "{\"op\":\"validate\",\"ids\":\"SEC-1\"}",
                "{\"op\":\"validate\",\"ids\":[1]}",
                "{\"op\":\"validate\",\"ids\":[null]}",
                "{\"op\":\"set\",\"value\":3}",
                "{\"op\":\"set\",\"prefix\":\"SEC\"}",
                "{\"op\":\"set\",\"prefix\":\"SEC\",\"value\":\"3\"}",
                "{\"op\":\"set\",\"prefix\":\"SEC\",\"value\":3.5}",
                "{\"op\":\"set\",\"prefix\":\"SEC\",\"value\":3,\"force\":\"yes\"}",
                "{\"op\":\"set\",\"prefix\":\"SEC\",\"value\":99999999999999999999}",
                "{\"op\":\"init\",\"paths\":\"TASKS.md\"}",
                "{\"op\":\"init\",\"counters\":{\"SEC\":\"3\"}}",
                "{\"op\":\"init\",\"counters\":[1]}",
                "{\"op\":\"init\",\"text\":[]}",
                "{\"op\":\"archive\",\"prefix\":\"P\",\"numbers\":[1.5]}",
                "{\"op\":\"archive\",\"prefix\":\"P\",\"restore\":1}",
                "{\"op\":\"hello\",\"protocol\":\"1\"}",
                "{\"op\":\"hello\",\"protocol\":4294967297}",
                // null is a wrong type, not "absent" (issue 10: it was read as the default)
                "{\"op\":\"hello\",\"protocol\":null}",
                "{\"op\":\"set\",\"prefix\":\"SEC\",\"value\":null}",
                "{\"op\":\"set\",\"prefix\":\"SEC\",\"value\":3,\"force\":null}",
                "{\"op\":\"archive\",\"prefix\":\"P\",\"numbers\":null}",
                "{\"op\":\"archive\",\"prefix\":\"P\",\"restore\":null}",
                "{\"op\":\"init\",\"counters\":null}",
                "{\"op\":\"validate\",\"ids\":null}",
                "{\"op\":\"init\",\"paths\":[\"/dev/zero\"]}",
            })
    void malformedLinesAreBadRequests(String line) {
        ProtocolException e = decodeFails(line);
        assertEquals(ErrorCode.BAD_REQUEST, e.code(), line + ": " + e.getMessage());
    }

    @Test
    void deepNestingIsABadRequestNotAStackOverflow() {
        String deep = "[".repeat(60_000);
        assertEquals(
                ErrorCode.BAD_REQUEST,
                decodeFails("{\"op\":\"ping\",\"x\":" + deep).code());
    }

    @Test
    void longListsAreRefused() {
        String ids = "[" + String.join(",", java.util.Collections.nCopies(10_001, "\"SEC-1\"")) + "]";
        assertEquals(
                ErrorCode.BAD_REQUEST,
                decodeFails("{\"op\":\"validate\",\"ids\":" + ids + "}").code());
        String ok = "[" + String.join(",", java.util.Collections.nCopies(10_000, "\"SEC-1\"")) + "]";
        assertEquals(
                10_000,
                ((Request.Validate) decode("{\"op\":\"validate\",\"ids\":" + ok + "}"))
                        .ids()
                        .size());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "1.5",
                "3.0",
                "1e3",
                "\"3\"",
                "\"2\"",
                "true",
                "[3]",
                "{}",
                "99999999999999999999",
                "-99999999999999999999",
                "null"
            })
    void countThatIsNotAnIntegerIsAnInvalidCount(String count) {
        ProtocolException e = decodeFails("{\"id\":1,\"op\":\"reserve\",\"prefix\":\"SEC\",\"count\":" + count + "}");
        assertEquals(ErrorCode.INVALID_COUNT, e.code(), count);
        assertEquals(RequestId.of(1), e.requestId());
    }

    /** Range checks (0, negative, above maxBatch) are the allocator's: it knows the configured maximum. */
    @Test
    void integerCountsReachTheAllocatorUnchanged() {
        for (long count :
                new long[] {0, -1, 1_000_000_000_000L, Protocol.MAX_NUMBER + 1, Long.MAX_VALUE, Long.MIN_VALUE}) {
            assertEquals(
                    count,
                    ((Request.Reserve) decode("{\"op\":\"reserve\",\"prefix\":\"SEC\",\"count\":" + count + "}"))
                            .count());
        }
        assertEquals(1, ((Request.Reserve) decode("{\"op\":\"reserve\",\"prefix\":\"SEC\"}")).count(), "default 1");
    }

    @Test
    void defaultsAndUnknownFields() {
        assertEquals(new Request.Hello(null, Protocol.VERSION), decode("{\"op\":\"hello\"}"));
        assertEquals(
                new Request.SetCounter(null, "SEC", 5, false),
                decode("{\"op\":\"set\",\"prefix\":\"SEC\",\"value\":5}"));
        assertEquals(new Request.Init(null, null, Map.of()), decode("{\"op\":\"init\"}"));
        // unknown fields are ignored, so newer clients can add optional fields
        assertEquals(new Request.Ping(null), decode("{\"op\":\"ping\",\"future\":{\"a\":[1,2,{\"b\":null}]}}"));
        assertTrue(decode("{\"op\":\"reserve\",\"prefix\":\"SEC\"}").mutates());
        assertFalse(decode("{\"op\":\"peek\"}").mutates());
    }

    @Test
    void decodesOnlyTheGivenSliceOfABuffer() throws Exception {
        String line = "{\"id\":3,\"op\":\"ping\"}";
        byte[] buf = bytes("garbage" + line + "more garbage");
        assertEquals(new Request.Ping(RequestId.of(3)), requests.decode(buf, 7, line.length()));
    }

    @Test
    void failureDecodingKeepsCodeMessageAndDetails() throws Exception {
        Response r = responses.decode(
                bytes("{\"id\":1,\"ok\":false,\"error\":{\"code\":\"LOCK_TIMEOUT\",\"message\":\"held\","
                        + "\"retry\":true,\"details\":{\"holder\":\"pid 12\"}}}"),
                "reserve");
        assertEquals(
                new Response.Failure(RequestId.of(1), ErrorCode.LOCK_TIMEOUT, "held", true, Map.of("holder", "pid 12")),
                r);
        assertFalse(r.ok());
        // a code this client does not know yet still reads as a failure
        Response.Failure newer = (Response.Failure) responses.decode(
                bytes("{\"ok\":false,\"error\":{\"code\":\"SOMETHING_NEW\",\"message\":\"m\"}}"), "ping");
        assertEquals(ErrorCode.BAD_REQUEST, newer.code());
        assertEquals("m", newer.message());
        assertEquals(
                ErrorCode.BAD_REQUEST,
                assertThrows(ProtocolException.class, () -> responses.decode(bytes("{\"ok\":false}"), "ping"))
                        .code());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"ok\":true,\"prefix\":\"SEC\",\"ids\":[\"SEC-1\"],\"numbers\":[\"1\"],\"previous\":0,\"counter\":1,\"next\":2,"
                        + "\"reservedAt\":\"2026-11-25T10:00:00.000Z\"}",
                "{\"ok\":true,\"prefix\":\"SEC\",\"ids\":[\"SEC-1\"],\"numbers\":[1],\"previous\":0,\"counter\":1,\"next\":2,"
                        + "\"reservedAt\":\"yesterday\"}",
                "{\"ok\":true,\"prefix\":\"SEC\",\"ids\":[\"SEC-1\"],\"numbers\":[1],\"previous\":0,\"counter\":1,\"next\":2}",
                "{\"ok\":\"true\"}",
            })
    void malformedReserveResponsesAreProtocolErrors(String line) {
        assertEquals(
                ErrorCode.BAD_REQUEST,
                assertThrows(ProtocolException.class, () -> responses.decode(bytes(line), "reserve"))
                        .code());
    }

    @Test
    void malformedValidateResponseIsAProtocolError() {
        assertEquals(
                ErrorCode.BAD_REQUEST,
                assertThrows(
                                ProtocolException.class,
                                () -> responses.decode(bytes("{\"ok\":true,\"results\":[\"SEC-1\"]}"), "validate"))
                        .code());
    }

    // ------------------------------------------------------------------ helpers

    private Request decode(String line) {
        try {
            return requests.decode(bytes(line));
        } catch (ProtocolException e) {
            throw new AssertionError(line + ": " + e.code() + " " + e.getMessage(), e);
        }
    }

    private ProtocolException decodeFails(String line) {
        return assertThrows(ProtocolException.class, () -> requests.decode(bytes(line)), line);
    }

    private static Set<Class<?>> permitted(Class<?> sealed) {
        return Arrays.stream(sealed.getPermittedSubclasses()).collect(Collectors.toSet());
    }

    private static boolean contains(byte[] bytes, byte b) {
        for (byte x : bytes) {
            if (x == b) {
                return true;
            }
        }
        return false;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, UTF_8);
    }
}
