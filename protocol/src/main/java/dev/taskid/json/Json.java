package dev.taskid.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one generic JSON layer: JSON text to plain Java trees and back, for everything that is not
 * a wire message (config, state files, the audit log, import, MCP, shims, CLI output). Trees are
 * {@link LinkedHashMap}s, {@link List}s, Strings, {@link Long} or {@link BigInteger}, {@link Double}
 * (or {@link BigDecimal} when asked), Booleans and nulls. Trees are read by {@link TreeReader}
 * (every CLI call reads some, and Jackson's parser costs JDK 25 a BigDecimal initialisation),
 * streams by Jackson's parser, and everything is written by Jackson's generator; never
 * ObjectMapper, which would double the CLI's start-up time. Thread-safe and cheap to create.
 */
public final class Json {
    // A duplicate key is refused, never "last one wins": {"SEC":100,"SEC":3} in a state file
    // would otherwise silently rewind a counter. Trees find duplicates themselves (one map
    // lookup per key: TreeReader, readValue), so trees and generators use the plain factory;
    // streaming readers get the strict one. One of each for the process: immutable once built,
    // their symbol tables and buffers shared; each built on first use: a CLI call through a
    // daemon reads trees with TreeReader and writes its lines with JsonWriter, so it never
    // loads Jackson (docs/BENCHMARKS.md, "CLI start-up, session 7").
    private static final class Plain {
        static final JsonFactory FACTORY = new JsonFactory();
    }

    private static final class Strict {
        static final JsonFactory FACTORY = JsonFactory.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
    }

    /** The factory for parsers and generators of callers that stream (duplicate keys refused). */
    public JsonFactory factory() {
        return Strict.FACTORY;
    }

    // ----------------------------------------------------------------- reading

    /** One JSON object in {@code buf[offset, offset + length)}, and nothing after it. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> readObject(byte[] buf, int offset, int length) throws JsonException {
        if (!TreeReader.startsObject(buf, offset, length)) {
            throw new JsonException("expected one JSON object per line");
        }
        return (Map<String, Object>) TreeReader.read(buf, offset, length, "object");
    }

    public Map<String, Object> readObject(byte[] bytes) throws JsonException {
        return readObject(bytes, 0, bytes.length);
    }

    /** Any one JSON value in {@code buf[offset, offset + length)}, and nothing after it. */
    public Object readValue(byte[] buf, int offset, int length) throws JsonException {
        if (TreeReader.blank(buf, offset, length)) {
            throw new JsonException("empty message");
        }
        return TreeReader.read(buf, offset, length, "value");
    }

    /** {@link #readValue(byte[], int, int)} of a String's UTF-8. */
    public Object readValue(String text) throws JsonException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return readValue(b, 0, b.length);
    }

    /** {@link #readValue(JsonParser, boolean)} with other numbers as {@link Double}. */
    public static Object readValue(JsonParser p) throws IOException {
        return readValue(p, false);
    }

    /**
     * Reads the value at the parser's current token as a tree (a duplicate key in any object is
     * an error); other numbers are
     * {@link BigDecimal} when {@code exactDecimals}: for files taskid rewrites on the user's
     * behalf, so that 1.10 stays 1.10.
     */
    public static Object readValue(JsonParser p, boolean exactDecimals) throws IOException {
        switch (p.currentToken()) {
            case START_OBJECT: {
                Map<String, Object> map = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    if (map.containsKey(name)) {
                        throw new JsonParseException(p, "Duplicate field '" + name + "'");
                    }
                    p.nextToken();
                    map.put(name, readValue(p, exactDecimals));
                }
                return map;
            }
            case START_ARRAY: {
                List<Object> list = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    list.add(readValue(p, exactDecimals));
                }
                return list;
            }
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? p.getBigIntegerValue()
                        : (Object) p.getLongValue();
            case VALUE_NUMBER_FLOAT:
                return exactDecimals ? p.getDecimalValue() : (Object) p.getDoubleValue();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw new IOException("unexpected token " + p.currentToken());
        }
    }

    // ----------------------------------------------------------------- writing

    /** Something that writes JSON to a generator. */
    @FunctionalInterface
    public interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    /** Serializes with {@code body}: one line of compact UTF-8 without the newline. */
    public byte[] write(Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try {
            write(out, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory does not fail
        }
        return out.toByteArray();
    }

    /** Serializes with {@code body} straight into {@code out} (not closed; nothing but the JSON written). */
    public void write(OutputStream out, Body body) throws IOException {
        try (JsonGenerator g = Plain.FACTORY.createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            body.write(g);
        }
    }

    /** A tree (maps, iterables, strings, numbers, booleans, null) as one line of compact UTF-8. */
    public byte[] write(Object value) {
        return write(g -> writeValue(g, value));
    }

    /** {@link #write(Object)} as a String. */
    public String writeString(Object value) {
        return new String(write(value), StandardCharsets.UTF_8);
    }

    /** {@link #write(Object)} with a newline: a file's whole text. */
    public byte[] writeLine(Object value) {
        byte[] line = write(value);
        byte[] text = Arrays.copyOf(line, line.length + 1);
        text[line.length] = '\n';
        return text;
    }

    /** Writes a field with a tree value. */
    public static void writeValue(JsonGenerator g, String field, Object value) throws IOException {
        g.writeFieldName(field);
        writeValue(g, value);
    }

    /** Writes a tree: maps, iterables, strings, numbers, booleans, null; anything else as its toString(). */
    public static void writeValue(JsonGenerator g, Object value) throws IOException {
        if (value == null) {
            g.writeNull();
        } else if (value instanceof Map<?, ?> map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                writeValue(g, String.valueOf(e.getKey()), e.getValue());
            }
            g.writeEndObject();
        } else if (value instanceof Iterable<?> items) {
            g.writeStartArray();
            for (Object item : items) {
                writeValue(g, item);
            }
            g.writeEndArray();
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short) {
            g.writeNumber(((Number) value).longValue());
        } else if (value instanceof BigInteger b) {
            g.writeNumber(b);
        } else if (value instanceof BigDecimal b) {
            g.writeNumber(b);
        } else if (value instanceof Number n) {
            g.writeNumber(n.doubleValue());
        } else if (value instanceof Boolean b) {
            g.writeBoolean(b);
        } else {
            g.writeString(value.toString());
        }
    }

    /** A small ordered-map builder: {@code Json.obj("a", 1, "b", 2)}; null values are left out. */
    public static Map<String, Object> obj(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (keysAndValues[i + 1] != null) {
                m.put((String) keysAndValues[i], keysAndValues[i + 1]);
            }
        }
        return m;
    }
}
