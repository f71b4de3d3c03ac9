package dev.taskid.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link JsonWriter} writes the very bytes Jackson's generator writes for the same calls, so that
 * a reader (or a diff of two audit logs) cannot tell which one wrote a line: every kind of
 * character (escapes, control characters, DEL, 2- and 3-byte UTF-8, surrogate pairs and lone
 * surrogates), numbers at both ends of the range, nesting and commas.
 */
class JsonWriterTest {
    private static final JsonFactory JACKSON = new JsonFactory();
    private static final char[] ALPHABET = {
        'a', 'Z', '0', ' ', '"', '\\', '/', '\b', '\t', '\n', '\f', '\r', 0, 1, 0x1F, 0x7F, 0x80, 0xE9, 0x7FF, 0x800,
        0x20AC, 0xFFFD, 0xFFFF, 0xD83D, 0xDE00, 0xDBFF, 0xDC00, '-', ':', '{'
    };

    @FunctionalInterface
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private static String jackson(Body body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JACKSON.createGenerator(out)) {
            body.write(g);
        }
        return out.toString(UTF_8);
    }

    private static String ours(JsonWriter w) {
        return new String(w.array(), 0, w.length(), UTF_8);
    }

    @Test
    void stringsAreEscapedAsJacksonEscapesThem() throws IOException {
        Random random = new Random(5);
        List<String> samples = new ArrayList<>(List.of("", "SEC-20", "caf\u00e9", "\ud83d\ude00", "\ud800", "\udc00x"));
        for (char c : ALPHABET) {
            samples.add(String.valueOf(c));
        }
        for (int i = 0; i < 5_000; i++) {
            StringBuilder s = new StringBuilder();
            int n = random.nextInt(12);
            for (int k = 0; k < n; k++) {
                s.append(
                        random.nextInt(4) == 0
                                ? (char) random.nextInt(0x10000)
                                : ALPHABET[random.nextInt(ALPHABET.length)]);
            }
            samples.add(s.toString());
        }
        JsonWriter w = new JsonWriter(4); // grows
        for (String s : samples) {
            w.reset()
                    .startObject()
                    .field("k", s)
                    .name("arr")
                    .startArray()
                    .string(s)
                    .string(s)
                    .endArray()
                    .endObject();
            String expected = jackson(g -> {
                g.writeStartObject();
                g.writeStringField("k", s);
                g.writeArrayFieldStart("arr");
                g.writeString(s);
                g.writeString(s);
                g.writeEndArray();
                g.writeEndObject();
            });
            assertEquals(
                    expected,
                    ours(w),
                    () -> "string " + s.chars().mapToObj(Integer::toHexString).toList());
        }
    }

    @Test
    void numbersBooleansNullsAndNestingMatchJackson() throws IOException {
        long[] numbers = {0, 1, -1, 9, 10, 99, 100, 123_456_789_012L, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1
        };
        for (long n : numbers) {
            JsonWriter w = new JsonWriter(8);
            w.startArray()
                    .number(n)
                    .bool(true)
                    .bool(false)
                    .nullValue()
                    .startObject()
                    .endObject()
                    .startArray()
                    .endArray()
                    .startObject()
                    .field("n", n)
                    .field("b", false)
                    .name("x")
                    .nullValue()
                    .endObject()
                    .endArray();
            String expected = jackson(g -> {
                g.writeStartArray();
                g.writeNumber(n);
                g.writeBoolean(true);
                g.writeBoolean(false);
                g.writeNull();
                g.writeStartObject();
                g.writeEndObject();
                g.writeStartArray();
                g.writeEndArray();
                g.writeStartObject();
                g.writeNumberField("n", n);
                g.writeBooleanField("b", false);
                g.writeNullField("x");
                g.writeEndObject();
                g.writeEndArray();
            });
            assertEquals(expected, ours(w));
        }
    }

    @Test
    void linesFollowOneAnotherWithoutCommas() {
        JsonWriter w = new JsonWriter(4);
        w.startObject()
                .field("a", 1)
                .endObject()
                .newline()
                .startObject()
                .field("b", "x")
                .endObject()
                .newline();
        w.startArray().number(1).number(2).endArray().newline();
        assertEquals("{\"a\":1}\n{\"b\":\"x\"}\n[1,2]\n", ours(w));
        assertEquals("{}", ours(w.reset().startObject().endObject()));
    }

    @Test
    void timestampsAreWrittenAsTimestampsFormatsThem() {
        for (String t : List.of(
                "1970-01-01T00:00:00Z",
                "2026-02-19T18:00:00.999999Z",
                "9999-12-31T23:59:59.999Z",
                "1969-12-31T23:59:59.5Z",
                "+10000-01-01T00:00:00Z")) {
            Instant time = Instant.parse(t);
            JsonWriter w = new JsonWriter(2);
            w.startArray().timestamp(time).timestamp(time).endArray();
            String one = '"' + Timestamps.format(time) + '"';
            assertEquals("[" + one + "," + one + "]", ours(w));
        }
    }
}
