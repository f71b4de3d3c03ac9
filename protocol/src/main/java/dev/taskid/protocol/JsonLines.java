package dev.taskid.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Encodes and decodes protocol lines (one JSON object, UTF-8, no newline) with Jackson's
 * streaming API only: ObjectMapper would double the CLI's start-up time. Thread-safe.
 */
public final class JsonLines {
    private static final java.time.format.DateTimeFormatter TIMESTAMP =
            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);

    // A duplicate key is refused, never "last one wins": {"SEC":100,"SEC":3} in a state file
    // would otherwise silently rewind a counter.
    private final JsonFactory factory = JsonFactory.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    // ---------------------------------------------------------------- requests

    /** Reads a request line; the exception carries the error code to answer with. */
    public Request decodeRequest(byte[] line) throws ProtocolException {
        return decodeRequest(line, 0, line.length);
    }

    public Request decodeRequest(byte[] buf, int offset, int length) throws ProtocolException {
        Map<String, Object> obj = readObject(buf, offset, length, null);
        RequestId id = requestId(obj);
        Fields f = new Fields(obj, id);
        String op = f.string("op", true);
        switch (op) {
            case "hello":
                return new Request.Hello(id, f.int32("protocol", Protocol.VERSION));
            case "reserve":
                return new Request.Reserve(id, f.string("prefix", true), f.count(),
                        f.string("purpose", false), f.string("agent", false), f.string("key", false));
            case "peek":
                return new Request.Peek(id, f.string("prefix", false));
            case "validate":
                return new Request.Validate(id, f.strings("ids", true));
            case "set":
                return new Request.SetCounter(id, f.string("prefix", true),
                        f.required("value"), f.bool("force"));
            case "init":
                if (obj.containsKey("paths")) {
                    throw new ProtocolException(ErrorCode.BAD_REQUEST, "\"paths\" is not read any more: the daemon reads "
                            + "no file a client names; scan the files and send the highest number per prefix as \"counters\"", id);
                }
                return new Request.Init(id, f.string("text", false), f.floors("counters"));
            case "archive":
                return new Request.Archive(id, f.string("prefix", true), f.integers("numbers"), f.bool("restore"));
            case "stats":
                return new Request.Stats(id);
            case "ping":
                return new Request.Ping(id);
            default:
                throw new ProtocolException(ErrorCode.UNKNOWN_OP, "unknown op \"" + op
                        + "\"; known: hello, reserve, peek, validate, set, init, archive, stats, ping", id);
        }
    }

    public byte[] encode(Request request) {
        return write(g -> {
            g.writeStartObject();
            writeId(g, request.id());
            g.writeStringField("op", request.op());
            if (request instanceof Request.Hello r) {
                g.writeNumberField("protocol", r.protocol());
            } else if (request instanceof Request.Reserve r) {
                g.writeStringField("prefix", r.prefix());
                g.writeNumberField("count", r.count());
                optional(g, "purpose", r.purpose());
                optional(g, "agent", r.agent());
                optional(g, "key", r.key());
            } else if (request instanceof Request.Peek r) {
                optional(g, "prefix", r.prefix());
            } else if (request instanceof Request.Validate r) {
                writeStrings(g, "ids", r.ids());
            } else if (request instanceof Request.SetCounter r) {
                g.writeStringField("prefix", r.prefix());
                g.writeNumberField("value", r.value());
                g.writeBooleanField("force", r.force());
            } else if (request instanceof Request.Init r) {
                optional(g, "text", r.text());
                if (!r.floors().isEmpty()) {
                    writeValue(g, "counters", new TreeMap<>(r.floors()));
                }
            } else if (request instanceof Request.Archive r) {
                g.writeStringField("prefix", r.prefix());
                writeValue(g, "numbers", r.numbers());
                if (r.restore()) {
                    g.writeBooleanField("restore", true);
                }
            }
            g.writeEndObject();
        });
    }

    // --------------------------------------------------------------- responses

    public byte[] encode(Response response) {
        return write(g -> {
            g.writeStartObject();
            writeId(g, response.id());
            g.writeBooleanField("ok", response.ok());
            if (response instanceof Response.Reserved r) {
                g.writeStringField("prefix", r.prefix());
                writeStrings(g, "ids", r.ids());
                g.writeArrayFieldStart("numbers");
                for (Long n : r.numbers()) {
                    g.writeNumber(n);
                }
                g.writeEndArray();
                g.writeNumberField("previous", r.previous());
                g.writeNumberField("counter", r.counter());
                g.writeNumberField("next", r.next());
                g.writeStringField("reservedAt", timestamp(r.reservedAt()));
                if (r.replayed()) {
                    g.writeBooleanField("replayed", true);
                }
            } else if (response instanceof Response.Counters r) {
                writeValue(g, "counters", r.counters());
            } else if (response instanceof Response.Validation r) {
                g.writeBooleanField("allIssued", r.allIssued());
                g.writeArrayFieldStart("results");
                for (Response.Validation.Check c : r.results()) {
                    g.writeStartObject();
                    g.writeStringField("id", c.id());
                    g.writeBooleanField("issued", c.issued());
                    optional(g, "reason", c.reason());
                    g.writeEndObject();
                }
                g.writeEndArray();
            } else if (response instanceof Response.CounterSet r) {
                g.writeStringField("prefix", r.prefix());
                g.writeNumberField("previous", r.previous());
                g.writeNumberField("counter", r.counter());
            } else if (response instanceof Response.Initialized r) {
                g.writeNumberField("found", r.found());
                writeValue(g, "before", r.before());
                writeValue(g, "counters", r.after());
            } else if (response instanceof Response.Archived r) {
                g.writeStringField("prefix", r.prefix());
                if (r.restore()) {
                    g.writeBooleanField("restore", true);
                }
                writeValue(g, "changed", r.changed());
                writeValue(g, "unchanged", r.unchanged());
                writeValue(g, "active", r.active());
                g.writeNumberField("wrap", r.wrap());
                g.writeNumberField("counter", r.counter());
                g.writeNumberField("next", r.next());
            } else if (response instanceof Response.Hello r) {
                g.writeNumberField("protocol", r.protocol());
                g.writeStringField("version", r.version());
                writeStrings(g, "capabilities", r.capabilities());
                g.writeNumberField("pid", r.pid());
                g.writeStringField("stateDir", r.stateDir());
                g.writeStringField("epoch", r.epoch());
                g.writeStringField("mode", r.mode());
            } else if (response instanceof Response.Stats r) {
                writeValue(g, "stats", r.values());
            } else if (response instanceof Response.Failure r) {
                g.writeObjectFieldStart("error");
                g.writeStringField("code", r.code().name());
                g.writeStringField("message", r.message());
                g.writeBooleanField("retry", r.retry());
                writeValue(g, "details", r.details());
                g.writeEndObject();
            }
            g.writeEndObject();
        });
    }

    /**
     * Reads a response line. The shape is chosen by the op of the request it answers, since
     * responses do not repeat the op.
     */
    public Response decodeResponse(byte[] line, String op) throws ProtocolException {
        Map<String, Object> obj = readObject(line, 0, line.length, null);
        RequestId id = requestId(obj);
        Fields f = new Fields(obj, id);
        if (!f.bool("ok")) {
            Object err = obj.get("error");
            if (!(err instanceof Map<?, ?> e)) {
                throw new ProtocolException(ErrorCode.BAD_REQUEST, "response without error object", id);
            }
            @SuppressWarnings("unchecked")
            Fields ef = new Fields((Map<String, Object>) e, id);
            String codeName = ef.string("code", true);
            ErrorCode code;
            try {
                code = ErrorCode.valueOf(codeName);
            } catch (IllegalArgumentException unknown) {
                code = ErrorCode.BAD_REQUEST;
            }
            return new Response.Failure(id, code, ef.string("message", true), ef.bool("retry"), ef.map("details"));
        }
        switch (op) {
            case "reserve":
                return new Response.Reserved(id, f.string("prefix", true), f.strings("ids", true), f.integers("numbers"),
                        f.integer("previous", 0, ErrorCode.BAD_REQUEST), f.integer("counter", 0, ErrorCode.BAD_REQUEST),
                        f.integer("next", 0, ErrorCode.BAD_REQUEST), f.instant("reservedAt"), f.bool("replayed"));
            case "peek":
                return new Response.Counters(id, f.longs("counters"));
            case "validate":
                List<Response.Validation.Check> checks = new ArrayList<>();
                for (Object o : f.list("results")) {
                    if (!(o instanceof Map<?, ?>)) {
                        throw new ProtocolException(ErrorCode.BAD_REQUEST, "\"results\" must hold objects", id);
                    }
                    @SuppressWarnings("unchecked")
                    Fields c = new Fields((Map<String, Object>) o, id);
                    checks.add(new Response.Validation.Check(c.string("id", true), c.bool("issued"),
                            c.string("reason", false)));
                }
                return new Response.Validation(id, checks);
            case "set":
                return new Response.CounterSet(id, f.string("prefix", true),
                        f.integer("previous", 0, ErrorCode.BAD_REQUEST), f.integer("counter", 0, ErrorCode.BAD_REQUEST));
            case "init":
                return new Response.Initialized(id, (int) f.integer("found", 0, ErrorCode.BAD_REQUEST),
                        f.longs("before"), f.longs("counters"));
            case "archive":
                return new Response.Archived(id, f.string("prefix", true), f.bool("restore"), f.integers("changed"),
                        f.integers("unchanged"), f.integers("active"), f.integer("wrap", 0, ErrorCode.BAD_REQUEST),
                        f.integer("counter", 0, ErrorCode.BAD_REQUEST), f.integer("next", 0, ErrorCode.BAD_REQUEST));
            case "hello":
                return new Response.Hello(id, (int) f.integer("protocol", 0, ErrorCode.BAD_REQUEST),
                        f.string("version", true), f.strings("capabilities", false),
                        f.integer("pid", 0, ErrorCode.BAD_REQUEST), f.string("stateDir", true),
                        f.string("epoch", true), f.string("mode", true));
            case "stats":
                return new Response.Stats(id, f.map("stats"));
            case "ping":
                return new Response.Pong(id);
            default:
                throw new IllegalArgumentException("unknown op " + op);
        }
    }

    // ------------------------------------------------------------- generic JSON

    /** Reads one JSON object into maps, lists, strings, numbers, booleans and nulls. */
    public Map<String, Object> readObject(byte[] buf, int offset, int length, RequestId id) throws ProtocolException {
        try (JsonParser p = factory.createParser(buf, offset, length)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ProtocolException(ErrorCode.BAD_REQUEST, "expected one JSON object per line", id);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> obj = (Map<String, Object>) readValue(p);
            if (p.nextToken() != null) {
                throw new ProtocolException(ErrorCode.BAD_REQUEST, "trailing data after the JSON object", id);
            }
            return obj;
        } catch (IOException e) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, "malformed JSON: " + firstLine(e.getMessage()), id);
        }
    }

    /**
     * Reads the value at the parser's current token as plain Java values: objects are
     * {@link LinkedHashMap}s, arrays {@link List}s, integers {@link Long} or {@link BigInteger},
     * other numbers {@link Double}.
     */
    public static Object readValue(JsonParser p) throws IOException {
        return readValue(p, false);
    }

    /**
     * {@link #readValue(JsonParser)}, with other numbers as {@link java.math.BigDecimal} when
     * {@code exactDecimals}: for files taskid rewrites on the user's behalf, so that 1.10 stays 1.10.
     */
    public static Object readValue(JsonParser p, boolean exactDecimals) throws IOException {
        switch (p.currentToken()) {
            case START_OBJECT: {
                Map<String, Object> map = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
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
                return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue() : (Object) p.getLongValue();
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

    /** Writes a generic value (maps, iterables, strings, numbers, booleans, null). */
    public static void writeValue(JsonGenerator g, String field, Object value) throws IOException {
        g.writeFieldName(field);
        writeValue(g, value);
    }

    /** Writes a generic value (maps, iterables, strings, numbers, booleans, null). */
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
        } else if (value instanceof java.math.BigDecimal b) {
            g.writeNumber(b);
        } else if (value instanceof Number n) {
            g.writeNumber(n.doubleValue());
        } else if (value instanceof Boolean b) {
            g.writeBoolean(b);
        } else {
            g.writeString(value.toString());
        }
    }

    /** Serializes with {@code body}; the result is one line of UTF-8 without the newline. */
    public byte[] write(Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = factory.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory does not fail
        }
        return out.toByteArray();
    }

    /** Something that writes JSON to a generator. */
    @FunctionalInterface
    public interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    /** JavaScript's toISOString form, always with milliseconds: {@code 2026-02-19T18:00:00.000Z}. */
    public static String timestamp(Instant instant) {
        return TIMESTAMP.format(instant);
    }

    public JsonFactory factory() {
        return factory;
    }

    private static void writeId(JsonGenerator g, RequestId id) throws IOException {
        if (id == null) {
            return;
        }
        g.writeFieldName("id");
        if (id.numeric()) {
            g.writeNumber(id.text());
        } else {
            g.writeString(id.text());
        }
    }

    private static void optional(JsonGenerator g, String field, String value) throws IOException {
        if (value != null) {
            g.writeStringField(field, value);
        }
    }

    private static void writeStrings(JsonGenerator g, String field, List<String> values) throws IOException {
        g.writeArrayFieldStart(field);
        for (String v : values) {
            g.writeString(v);
        }
        g.writeEndArray();
    }

    private static RequestId requestId(Map<String, Object> obj) throws ProtocolException {
        Object id = obj.get("id");
        if (id == null) {
            return null;
        }
        if (id instanceof String s) {
            return RequestId.of(s);
        }
        if (id instanceof Long l) {
            return RequestId.of(l);
        }
        throw new ProtocolException(ErrorCode.BAD_REQUEST, "\"id\" must be a string or an integer", null);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable input";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Typed access to an object's fields; wrong types become the right error codes. */
    private static final class Fields {
        private static final int MAX_LIST = 10_000;
        private final Map<String, Object> obj;
        private final RequestId id;

        Fields(Map<String, Object> obj, RequestId id) {
            this.obj = obj;
            this.id = id;
        }

        String string(String name, boolean required) throws ProtocolException {
            Object v = obj.get(name);
            if (v == null) {
                if (required) {
                    throw bad("missing string field \"" + name + "\"");
                }
                return null;
            }
            if (!(v instanceof String s)) {
                throw bad("field \"" + name + "\" must be a string");
            }
            return s;
        }

        boolean bool(String name) throws ProtocolException {
            Object v = obj.get(name);
            if (v == null) {
                if (obj.containsKey(name)) {
                    throw bad("field \"" + name + "\" must be true or false, got null");
                }
                return false;
            }
            if (!(v instanceof Boolean b)) {
                throw bad("field \"" + name + "\" must be true or false");
            }
            return b;
        }

        /** Absent: {@code absent}; null or another type: {@code code}, never a guess. */
        long integer(String name, long absent, ErrorCode code) throws ProtocolException {
            Object v = obj.get(name);
            if (v == null && !obj.containsKey(name)) {
                return absent;
            }
            if (!(v instanceof Long l)) {
                throw new ProtocolException(code, "field \"" + name + "\" must be an integer, got "
                        + (v instanceof String ? "the string \"" + v + "\"" : v), id);
            }
            return l;
        }

        /** A field that must be present and an integer. */
        long required(String name) throws ProtocolException {
            if (obj.get(name) == null) {
                throw bad("missing integer field \"" + name + "\"");
            }
            return integer(name, 0, ErrorCode.BAD_REQUEST);
        }

        /** A non-negative integer that fits an int: a cast would silently turn 2^32+1 into 1. */
        int int32(String name, int absent) throws ProtocolException {
            long v = integer(name, absent, ErrorCode.BAD_REQUEST);
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw bad("field \"" + name + "\" must be an integer from 0 to " + Integer.MAX_VALUE + ", got " + v);
            }
            return (int) v;
        }

        Instant instant(String name) throws ProtocolException {
            String text = string(name, true);
            try {
                return Instant.parse(text);
            } catch (java.time.format.DateTimeParseException e) {
                throw bad("field \"" + name + "\" must be a time like 2026-02-19T18:00:00.000Z, got " + text);
            }
        }

        long count() throws ProtocolException {
            return integer("count", 1, ErrorCode.INVALID_COUNT);
        }

        List<Object> list(String name) throws ProtocolException {
            Object v = obj.get(name);
            if (v == null) {
                if (obj.containsKey(name)) {
                    throw bad("field \"" + name + "\" must be an array, got null");
                }
                return List.of();
            }
            if (!(v instanceof List<?> l)) {
                throw bad("field \"" + name + "\" must be an array");
            }
            if (l.size() > MAX_LIST) {
                throw bad("field \"" + name + "\" has more than " + MAX_LIST + " items");
            }
            @SuppressWarnings("unchecked")
            List<Object> items = (List<Object>) l;
            return items;
        }

        List<String> strings(String name, boolean required) throws ProtocolException {
            if (required && obj.get(name) == null) {
                throw bad("missing array field \"" + name + "\"");
            }
            List<String> out = new ArrayList<>();
            for (Object o : list(name)) {
                if (!(o instanceof String s)) {
                    throw bad("field \"" + name + "\" must hold only strings");
                }
                out.add(s);
            }
            return out;
        }

        List<Long> integers(String name) throws ProtocolException {
            List<Long> out = new ArrayList<>();
            for (Object o : list(name)) {
                if (!(o instanceof Long l)) {
                    throw bad("field \"" + name + "\" must hold only integers");
                }
                out.add(l);
            }
            return out;
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> map(String name) throws ProtocolException {
            Object v = obj.get(name);
            if (v == null) {
                if (obj.containsKey(name)) {
                    throw bad("field \"" + name + "\" must be an object, got null");
                }
                return Map.of();
            }
            if (!(v instanceof Map<?, ?>)) {
                throw bad("field \"" + name + "\" must be an object");
            }
            return (Map<String, Object>) v;
        }

        TreeMap<String, Long> longs(String name) throws ProtocolException {
            TreeMap<String, Long> out = new TreeMap<>();
            for (Map.Entry<String, Object> e : map(name).entrySet()) {
                if (!(e.getValue() instanceof Long l)) {
                    throw bad("field \"" + name + "\" must map names to integers");
                }
                out.put(e.getKey(), l);
            }
            return out;
        }

        Map<String, Long> floors(String name) throws ProtocolException {
            return longs(name);
        }

        private ProtocolException bad(String message) {
            return new ProtocolException(ErrorCode.BAD_REQUEST, message, id);
        }
    }
}
