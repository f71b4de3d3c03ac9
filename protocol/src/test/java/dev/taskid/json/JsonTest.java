package dev.taskid.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The generic JSON layer: trees in and out, duplicate keys refused, typed fields with clear errors. */
class JsonTest {
    private final Json json = new Json();

    @Test
    void timestampsAreJavaScriptStyle() {
        assertEquals("2026-02-19T18:00:00.000Z", Timestamps.format(Instant.parse("2026-02-19T18:00:00Z")));
        assertEquals("2026-02-19T18:00:00.999Z", Timestamps.format(Instant.parse("2026-02-19T18:00:00.999999Z")));
    }

    @Test
    void timestampsAgreeWithDateTimeFormatterOnEveryKindOfDay() {
        java.time.format.DateTimeFormatter reference = java.time.format.DateTimeFormatter.ofPattern(
                        "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
                .withZone(java.time.ZoneOffset.UTC);
        java.util.Random random = new java.util.Random(11);
        List<Instant> samples = new java.util.ArrayList<>(List.of(
                Instant.EPOCH,
                Instant.parse("2000-02-29T23:59:59.999Z"),
                Instant.parse("2100-03-01T00:00:00Z"),
                Instant.parse("9999-12-31T23:59:59.999999999Z"),
                Instant.parse("1969-12-31T23:59:59.5Z"),
                Instant.parse("+10000-01-01T00:00:00Z")));
        for (int i = 0; i < 20_000; i++) {
            samples.add(Instant.ofEpochSecond(random.nextLong(0, 253_402_300_800L), random.nextInt(1_000_000_000)));
        }
        for (Instant t : samples) {
            assertEquals(reference.format(t), Timestamps.format(t), t.toString());
        }
    }

    @Test
    void timestampsParseAsInstantParseDoes() {
        java.util.Random random = new java.util.Random(12);
        List<String> texts = new java.util.ArrayList<>(List.of(
                "1970-01-01T00:00:00.000Z",
                "2000-02-29T23:59:59.999Z",
                "2100-02-28T12:00:00.001Z",
                "2400-02-29T00:00:00.000Z",
                "9999-12-31T23:59:59.999Z",
                "1969-12-31T23:59:59.500Z",
                "2026-02-19T18:00:00Z",
                "2026-02-19T18:00:00.123456Z",
                "2026-01-01T24:00:00.000Z", // end of day: Instant.parse reads it as the next midnight
                "2016-12-31T23:59:60.000Z", // a leap second: Instant.parse folds it into :59
                "+10000-01-01T00:00:00.000Z"));
        for (int i = 0; i < 20_000; i++) {
            texts.add(Timestamps.format(
                    Instant.ofEpochSecond(random.nextLong(0, 253_402_300_800L), random.nextInt(1_000_000_000))));
        }
        for (String t : texts) {
            assertEquals(Instant.parse(t), Timestamps.parse(t), t);
        }
        // Not a valid time in the canonical shape: refused as Instant.parse refuses it.
        for (String bad : List.of(
                "2023-02-29T00:00:00.000Z",
                "2100-02-29T00:00:00.000Z",
                "2026-04-31T00:00:00.000Z",
                "2026-13-01T00:00:00.000Z",
                "2026-00-01T00:00:00.000Z",
                "2026-01-01T00:60:00.000Z",
                "2026-01-01T00:00:00.0-1Z",
                "2026-01-01T-1:00:00.000Z",
                "2026-01-01T00:00:00.000X")) {
            assertThrows(java.time.format.DateTimeParseException.class, () -> Instant.parse(bad), bad);
            assertThrows(java.time.format.DateTimeParseException.class, () -> Timestamps.parse(bad), bad);
        }
    }

    @Test
    void genericValuesAreWrittenAsJson() {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("int", 1);
        values.put("long", Long.MAX_VALUE);
        values.put("big", new java.math.BigInteger("123456789012345678901234567890"));
        values.put("double", 0.5);
        values.put("bool", true);
        values.put("null", null);
        values.put("list", List.of(1, "a"));
        values.put("other", java.time.Duration.ofSeconds(1));
        assertEquals(
                "{\"v\":{\"int\":1,\"long\":9223372036854775807,\"big\":123456789012345678901234567890,"
                        + "\"double\":0.5,\"bool\":true,\"null\":null,\"list\":[1,\"a\"],\"other\":\"PT1S\"}}",
                text(json.write(g -> {
                    g.writeStartObject();
                    Json.writeValue(g, "v", values);
                    g.writeEndObject();
                })));
        assertEquals("{\"a\":1}\n", text(json.writeLine(Json.obj("a", 1, "b", null))), "null values left out");
    }

    @Test
    void treesRoundTripAndDuplicateKeysAreRefused() throws Exception {
        Map<String, Object> obj =
                json.readObject(bytes("{\"a\":[1,2.5,\"s\",true,null],\"b\":{\"c\":18446744073709551616}}"));
        assertEquals("{\"a\":[1,2.5,\"s\",true,null],\"b\":{\"c\":18446744073709551616}}", json.writeString(obj));
        JsonException dup = assertThrows(JsonException.class, () -> json.readObject(bytes("{\"SEC\":100,\"SEC\":3}")));
        assertTrue(dup.getMessage().startsWith("malformed JSON: Duplicate field 'SEC'"), dup.getMessage());
        for (String nested : List.of("{\"a\":{\"b\":1,\"b\":1}}", "{\"a\":[{\"b\":1,\"c\":2,\"b\":null}]}")) {
            assertTrue(
                    assertThrows(JsonException.class, () -> json.readObject(bytes(nested)))
                            .getMessage()
                            .startsWith("malformed JSON: Duplicate field 'b'"),
                    nested);
        }
        assertEquals(
                "trailing data after the JSON object",
                assertThrows(JsonException.class, () -> json.readObject(bytes("{} {}")))
                        .getMessage());
        assertEquals(
                "expected one JSON object per line",
                assertThrows(JsonException.class, () -> json.readObject(bytes("[1]")))
                        .getMessage());
        assertEquals(List.of(1L, "x"), json.readValue(bytes("[1,\"x\"]"), 0, 7));
        assertEquals(
                "empty message",
                assertThrows(JsonException.class, () -> json.readValue(new byte[0], 0, 0))
                        .getMessage());
    }

    /** Jackson's parser with its defaults, reading a tree as Json read them before TreeReader. */
    private static Object jackson(byte[] b) throws Exception {
        try (com.fasterxml.jackson.core.JsonParser p = new com.fasterxml.jackson.core.JsonFactory().createParser(b)) {
            if (p.nextToken() == null) {
                throw new JsonException("empty message");
            }
            Object v = Json.readValue(p);
            if (p.nextToken() != null) {
                throw new JsonException("trailing data");
            }
            return v;
        }
    }

    private Object treeOrError(byte[] b) {
        try {
            return json.readValue(b, 0, b.length);
        } catch (JsonException e) {
            assertTrue(
                    e.getMessage().startsWith("malformed JSON: ")
                            || e.getMessage().startsWith("trailing data")
                            || e.getMessage().equals("empty message"),
                    e.getMessage());
            return e;
        }
    }

    private static Object jacksonOrError(byte[] b) {
        try {
            return jackson(b);
        } catch (Exception e) {
            return e;
        }
    }

    /**
     * The tree reader accepts exactly what Jackson's parser accepts and reads the same trees:
     * random documents, and each broken in random places (ASCII and well-formed UTF-8; on
     * malformed UTF-8 the tree reader is the stricter of the two, refusing overlong forms and
     * encoded surrogates).
     */
    @Test
    void treeReaderAgreesWithJackson() throws Exception {
        java.util.Random random = new java.util.Random(13);
        String alphabet = "{}[]:,\"\\ \t\n-+.eE0123456789abfnrtu/xtruefalsenull\u00e9\u20ac\ud83d\ude00";
        int accepted = 0;
        for (int i = 0; i < 30_000; i++) {
            StringBuilder doc = new StringBuilder(randomValue(random, 0));
            int mutations = i % 3 == 0 ? 0 : 1 + random.nextInt(3);
            for (int m = 0; m < mutations && doc.length() > 0; m++) {
                int at = random.nextInt(doc.length());
                if (Character.isSurrogate(doc.charAt(at))) {
                    continue;
                }
                switch (random.nextInt(3)) {
                    case 0 -> doc.deleteCharAt(at);
                    case 1 -> doc.insert(at, alphabet.charAt(random.nextInt(alphabet.length() - 2)));
                    default -> doc.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length() - 2)));
                }
            }
            byte[] b = doc.toString().getBytes(UTF_8);
            Object ours = treeOrError(b);
            Object theirs = jacksonOrError(b);
            if (theirs instanceof Exception) {
                assertTrue(ours instanceof JsonException, doc + " -> " + ours + ", Jackson: " + theirs);
            } else {
                assertEquals(theirs, ours, doc.toString());
                accepted++;
            }
        }
        assertTrue(accepted > 10_000, "accepted " + accepted);
        // The limits Jackson has: nesting depth 1,000, numbers of 1,000 characters.
        for (int depth : new int[] {1000, 1001}) {
            byte[] b = ("[".repeat(depth) + "]".repeat(depth)).getBytes(UTF_8);
            assertEquals(
                    jacksonOrError(b) instanceof Exception, treeOrError(b) instanceof JsonException, "depth " + depth);
        }
        for (int digits : new int[] {1000, 1001}) {
            byte[] b = ("[" + "7".repeat(digits) + "]").getBytes(UTF_8);
            assertEquals(
                    jacksonOrError(b) instanceof Exception,
                    treeOrError(b) instanceof JsonException,
                    digits + " digits");
        }
        // A byte-order mark is skipped, as Jackson skips it; malformed UTF-8 is refused.
        assertEquals(
                Map.of("a", 1L),
                json.readObject(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '"', 'a', '"', ':', '1', '}'}));
        for (byte[] bad : List.of(
                new byte[] {'"', (byte) 0xC0, (byte) 0x80, '"'},
                new byte[] {'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'},
                new byte[] {'"', (byte) 0xE2, (byte) 0x82, '"'},
                new byte[] {'"', (byte) 0xFF, '"'})) {
            assertTrue(treeOrError(bad) instanceof JsonException, java.util.Arrays.toString(bad));
        }
    }

    private static String randomValue(java.util.Random random, int depth) {
        int kind = random.nextInt(depth > 4 ? 6 : 9);
        switch (kind) {
            case 0:
                return "null";
            case 1:
                return random.nextBoolean() ? "true" : "false";
            case 2:
                return Long.toString(random.nextLong() >> random.nextInt(64));
            case 3:
                return random.nextBoolean() ? Double.toString(random.nextGaussian() * 1e6) : "1.5e-3";
            case 4:
                return random.nextBoolean() ? "123456789012345678901234567890" : "-0";
            case 5:
                return quoted(random);
            case 6:
            case 7: {
                StringBuilder b = new StringBuilder("{");
                int n = random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    b.append(i > 0 ? "," : "")
                            .append(random.nextBoolean() ? " " : "")
                            .append(quoted(random))
                            .append(':')
                            .append(randomValue(random, depth + 1));
                }
                return b.append('}').toString();
            }
            default: {
                StringBuilder b = new StringBuilder("[");
                int n = random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    b.append(i > 0 ? ", " : "").append(randomValue(random, depth + 1));
                }
                return b.append(']').toString();
            }
        }
    }

    private static String quoted(java.util.Random random) {
        String[] parts = {
            "a",
            "SEC",
            "\\n",
            "\\\"",
            "\\u00e9",
            "\\ud83d\\ude00",
            "\u00e9",
            "\u20ac",
            "\ud83d\ude00",
            " ",
            "\\/",
            "\\t"
        };
        StringBuilder b = new StringBuilder("\"");
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
            b.append(parts[random.nextInt(parts.length)]);
        }
        return b.append('"').toString();
    }

    @Test
    void exactDecimalsStayAsWritten() throws Exception {
        try (var p = json.factory().createParser("{\"w\":1.10}")) {
            p.nextToken();
            assertEquals(Map.of("w", new BigDecimal("1.10")), Json.readValue(p, true));
        }
    }

    @Test
    void writesStraightIntoAStreamWithoutClosingIt() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        json.write(out, g -> Json.writeValue(g, Map.of("k", 1)));
        out.write('\n');
        assertEquals("{\"k\":1}\n", out.toString(UTF_8));
    }

    @Test
    void typedFieldsNameTheFieldTheyRefuse() throws Exception {
        JsonFields<JsonException> f = JsonFields.of(json.readObject(bytes(
                "{\"s\":\"x\",\"n\":\"7\",\"big\":4294967297,\"l\":[1,\"2\"],\"nul\":null,\"t\":\"yesterday\"}")));
        assertEquals("x", f.string("s", true));
        assertEquals(5L, f.integer("absent", 5));
        assertEquals(
                "field \"n\" must be an integer, got the string \"7\"",
                assertThrows(JsonException.class, () -> f.integer("n", 0)).getMessage());
        assertEquals(
                "field \"big\" must be an integer from 0 to 2147483647, got 4294967297",
                assertThrows(JsonException.class, () -> f.int32("big", 0)).getMessage());
        assertEquals(
                "field \"l\" must hold only integers",
                assertThrows(JsonException.class, () -> f.integers("l")).getMessage());
        assertEquals(
                "field \"nul\" must be true or false, got null",
                assertThrows(JsonException.class, () -> f.bool("nul")).getMessage());
        assertEquals(
                "field \"t\" must be a time like 2026-02-19T18:00:00.000Z, got yesterday",
                assertThrows(JsonException.class, () -> f.instant("t")).getMessage());
        assertEquals(
                "missing string field \"none\"",
                assertThrows(JsonException.class, () -> f.string("none", true)).getMessage());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, UTF_8);
    }
}
