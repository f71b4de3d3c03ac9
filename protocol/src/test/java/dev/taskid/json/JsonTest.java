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
