package dev.taskid.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.taskid.json.Json;
import dev.taskid.json.JsonFields;
import dev.taskid.json.JsonWriter;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * Request lines (one JSON object, UTF-8, no newline) to {@link Request}s and back: the daemon
 * decodes, the client encodes. A line that is not a valid request is a {@link ProtocolException}
 * carrying the code to answer with. Thread-safe.
 */
public final class RequestCodec {
    private final Json json = new Json();

    public Request decode(byte[] line) throws ProtocolException {
        return decode(line, 0, line.length);
    }

    public Request decode(byte[] buf, int offset, int length) throws ProtocolException {
        Map<String, Object> obj = Wire.readLine(json, buf, offset, length);
        RequestId id = Wire.requestId(obj);
        JsonFields<ProtocolException> f = Wire.fields(obj, id);
        String op = f.string("op", true);
        switch (op) {
            case "hello":
                return new Request.Hello(id, f.int32("protocol", Protocol.VERSION));
            case "reserve":
                return new Request.Reserve(
                        id,
                        f.string("prefix", true),
                        count(f, id),
                        f.string("purpose", false),
                        f.string("agent", false),
                        f.string("key", false));
            case "peek":
                return new Request.Peek(id, f.string("prefix", false));
            case "validate":
                return new Request.Validate(id, f.strings("ids", true));
            case "set":
                return new Request.SetCounter(id, f.string("prefix", true), f.required("value"), f.bool("force"));
            case "init":
                if (f.has("paths")) {
                    throw new ProtocolException(
                            ErrorCode.BAD_REQUEST,
                            "\"paths\" is not read any more: the daemon reads "
                                    + "no file a client names; scan the files and send the highest number per prefix as \"counters\"",
                            id);
                }
                return new Request.Init(id, f.string("text", false), f.longs("counters"));
            case "archive":
                return new Request.Archive(id, f.string("prefix", true), f.integers("numbers"), f.bool("restore"));
            case "stats":
                return new Request.Stats(id);
            case "ping":
                return new Request.Ping(id);
            default:
                throw new ProtocolException(
                        ErrorCode.UNKNOWN_OP,
                        "unknown op \"" + op
                                + "\"; known: hello, reserve, peek, validate, set, init, archive, stats, ping",
                        id);
        }
    }

    /** A count that is not an integer is INVALID_COUNT, like one out of range. */
    private static long count(JsonFields<ProtocolException> f, RequestId id) throws ProtocolException {
        try {
            return f.integer("count", 1);
        } catch (ProtocolException e) {
            throw new ProtocolException(ErrorCode.INVALID_COUNT, e.getMessage(), id);
        }
    }

    public byte[] encode(Request request) {
        if (request instanceof Request.Hello || request instanceof Request.Reserve) {
            return encodeCall(request);
        }
        return json.write(g -> write(g, request));
    }

    /**
     * The two requests of every CLI call through a daemon, with {@link JsonWriter} (the bytes
     * Jackson's generator writes): such a call then loads no Jackson class and links no lambda
     * here (docs/BENCHMARKS.md, "CLI start-up, session 7").
     */
    private static byte[] encodeCall(Request request) {
        JsonWriter w = new JsonWriter(128).startObject();
        Wire.writeId(w, request.id());
        w.field("op", request.op());
        if (request instanceof Request.Hello r) {
            w.field("protocol", r.protocol());
        } else if (request instanceof Request.Reserve r) {
            w.field("prefix", r.prefix())
                    .field("count", r.count())
                    .optional("purpose", r.purpose())
                    .optional("agent", r.agent())
                    .optional("key", r.key());
        }
        return w.endObject().toBytes();
    }

    private static void write(JsonGenerator g, Request request) throws IOException {
        g.writeStartObject();
        Wire.writeId(g, request.id());
        g.writeStringField("op", request.op());
        if (request instanceof Request.Peek r) {
            Wire.optional(g, "prefix", r.prefix());
        } else if (request instanceof Request.Validate r) {
            Wire.writeStrings(g, "ids", r.ids());
        } else if (request instanceof Request.SetCounter r) {
            g.writeStringField("prefix", r.prefix());
            g.writeNumberField("value", r.value());
            g.writeBooleanField("force", r.force());
        } else if (request instanceof Request.Init r) {
            Wire.optional(g, "text", r.text());
            if (!r.floors().isEmpty()) {
                Json.writeValue(g, "counters", new TreeMap<>(r.floors()));
            }
        } else if (request instanceof Request.Archive r) {
            g.writeStringField("prefix", r.prefix());
            Json.writeValue(g, "numbers", r.numbers());
            if (r.restore()) {
                g.writeBooleanField("restore", true);
            }
        }
        g.writeEndObject();
    }
}
