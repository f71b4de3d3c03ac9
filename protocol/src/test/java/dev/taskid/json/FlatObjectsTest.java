package dev.taskid.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link FlatObjects}, the parser-less fast path of {@link Json#readObject}: whatever it accepts
 * reads to exactly Jackson's tree (same keys in the same order, same values and types), and it
 * hands everything else to Jackson (null), so errors and odd input behave as before. Checked on
 * hand-picked edge cases and on 50,000 lines put together at random from JSON's pieces.
 */
class FlatObjectsTest {
    private final Json json = new Json();

    /** Jackson's reading of a line: its tree, or null when it refuses the line or it is no object. */
    private Object jackson(byte[] b) {
        try {
            Object v = json.readValue(b, 0, b.length); // readValue never takes the fast path
            return v instanceof Map<?, ?> ? v : null;
        } catch (JsonException e) {
            return null;
        }
    }

    private void agrees(String line) {
        byte[] b = ("xx" + line + "yy").getBytes(UTF_8); // at an offset, with bytes around it
        int length = b.length - 4;
        byte[] exact = java.util.Arrays.copyOfRange(b, 2, 2 + length);
        Map<String, Object> fast = FlatObjects.read(b, 2, length);
        if (fast == null) {
            return; // Jackson reads it, as before
        }
        Object expected = jackson(exact);
        assertNotNull(expected, () -> "accepted what Jackson refuses: " + line);
        assertEquals(expected, fast, line);
        assertEquals(new ArrayList<>(((Map<?, ?>) expected).keySet()), new ArrayList<>(fast.keySet()), line);
        for (Map.Entry<String, Object> e : fast.entrySet()) {
            Object v = ((Map<?, ?>) expected).get(e.getKey());
            assertEquals(v == null ? null : v.getClass(), e.getValue() == null ? null : e.getValue().getClass(), line);
        }
    }

    @Test
    void theProtocolsLinesAreReadWithoutAParser() {
        byte[] line = "{\"id\":17,\"op\":\"reserve\",\"prefix\":\"SEC\",\"count\":1,\"agent\":\"bench\"}".getBytes(UTF_8);
        Map<String, Object> m = FlatObjects.read(line, 0, line.length);
        assertEquals(Map.of("id", 17L, "op", "reserve", "prefix", "SEC", "count", 1L, "agent", "bench"), m);
        byte[] spaced = " {\"a\" : true ,\"b\":false,\t\"n\":-5 }\r".getBytes(UTF_8);
        assertEquals(Map.of("a", true, "b", false, "n", -5L), FlatObjects.read(spaced, 0, spaced.length));
    }

    @Test
    void whatItCannotReadExactlyIsLeftToJackson() {
        for (String line : List.of(
                "{\"a\":\"\\n\"}", "{\"a\":\"caf\u00e9\"}", "{\"a\":[1]}", "{\"a\":{}}", "{\"a\":1.5}", "{\"a\":1e3}",
                "{\"a\":01}", "{\"a\":1234567890123456789}", "{\"a\":1,\"a\":2}", "{\"a\":1,}", "{\"a\":tru}",
                "{\"a\":truex}", "{\"a\":1}x", "[1]", "{\"a\":-}", "{\"a\"1}", "{\"a\":\"x}", "{\"a\":\"\t\"}",
                "{'a':1}", "\ufeff{}", "{\"a\":1}{}", "")) {
            assertNull(FlatObjects.read(line.getBytes(UTF_8), 0, line.getBytes(UTF_8).length), line);
        }
    }

    @Test
    void agreesWithJacksonOnEdgeCases() {
        for (String line : List.of(
                "{}", " { } ", "{\"\":\"\"}", "{\"a\":null}", "{\"a\":-0}", "{\"a\":0}", "{\"a\":999999999999999999}",
                "{\"a\":-999999999999999999}", "{\"id\":\"x\",\"op\":\"ping\"}", "{\"a\":\" ~!#$%&'()*+,-./:;<=>?@[]^_`{|}\"}",
                "\n{\"a\":1}\n", "{\"a\":true}", "{\"a\":false,\"b\":null,\"c\":\"null\"}")) {
            assertNotNull(FlatObjects.read(line.getBytes(UTF_8), 0, line.getBytes(UTF_8).length), line);
            agrees(line);
        }
    }

    @Test
    void agreesWithJacksonOnRandomLines() {
        String[] pieces = {
            "{", "}", "[", "]", ":", ",", " ", "\t", "\r", "\n", "\"", "\"a\"", "\"id\"", "\"op\"", "\"count\"", "\"SEC\"",
            "\"reserve\"", "\"x y\"", "\"\\\"\"", "\"\u00e9\"", "0", "1", "-", "-1", "12", "007", "1.5", "2e3",
            "123456789012345678", "1234567890123456789", "true", "false", "null", "tru", "nul", "x", "\\", "'", "\u0001"
        };
        Random random = new Random(12);
        int accepted = 0;
        for (int i = 0; i < 50_000; i++) {
            StringBuilder s = new StringBuilder("{");
            if (random.nextInt(3) > 0) {
                // mostly well-formed: "name":value pairs with occasional noise
                int fields = random.nextInt(5);
                for (int f = 0; f < fields; f++) {
                    if (f > 0) {
                        s.append(random.nextInt(20) == 0 ? pieces[random.nextInt(pieces.length)] : ",");
                    }
                    s.append(random.nextInt(10) == 0 ? pieces[random.nextInt(pieces.length)] : "\"k" + random.nextInt(4) + "\"");
                    s.append(random.nextInt(30) == 0 ? " " : "").append(':');
                    s.append(pieces[random.nextInt(pieces.length)]);
                }
                s.append(random.nextInt(15) == 0 ? "" : "}");
            } else {
                int n = random.nextInt(10);
                for (int k = 0; k < n; k++) {
                    s.append(pieces[random.nextInt(pieces.length)]);
                }
            }
            String line = s.toString();
            agrees(line);
            if (FlatObjects.read(line.getBytes(UTF_8), 0, line.getBytes(UTF_8).length) != null) {
                accepted++;
            }
        }
        org.junit.jupiter.api.Assertions.assertTrue(accepted > 5_000, "the random lines exercise the fast path: " + accepted);
    }
}
