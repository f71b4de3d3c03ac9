package dev.taskid.mcp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import dev.taskid.protocol.JsonLines;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Any JSON value to plain Java values and back, with Jackson's streaming API only (no
 * databind on the CLI's class path). Objects are {@link LinkedHashMap}s, arrays
 * {@link List}s, integers {@link Long} or {@link BigInteger}, other numbers {@link Double}.
 */
final class Json {
    private static final JsonFactory FACTORY = new JsonFactory();

    private Json() {
    }

    /** Parses exactly one JSON value from {@code buf[offset, offset + length)}. */
    static Object parse(byte[] buf, int offset, int length) throws IOException {
        try (JsonParser p = FACTORY.createParser(buf, offset, length)) {
            if (p.nextToken() == null) {
                throw new IOException("empty message");
            }
            Object value = JsonLines.readValue(p);
            if (p.nextToken() != null) {
                throw new IOException("trailing data after the JSON value");
            }
            return value;
        }
    }

    static Object parse(String text) throws IOException {
        byte[] b = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return parse(b, 0, b.length);
    }

    /** One line of compact JSON (UTF-8, no newline: JSON escapes every control character). */
    static byte[] write(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            JsonLines.writeValue(g, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory does not fail
        }
        return out.toByteArray();
    }

    static String writeString(Object value) {
        return new String(write(value), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A small ordered-map builder: {@code Json.obj("a", 1, "b", 2)}; null values are left out. */
    static Map<String, Object> obj(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (keysAndValues[i + 1] != null) {
                m.put((String) keysAndValues[i], keysAndValues[i + 1]);
            }
        }
        return m;
    }
}
