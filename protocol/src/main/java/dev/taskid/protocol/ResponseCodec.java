package dev.taskid.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.taskid.json.Json;
import dev.taskid.json.JsonFields;
import dev.taskid.json.JsonWriter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@link Response}s to their lines (one JSON object, UTF-8, no newline) and back: the daemon
 * encodes, the client decodes. Thread-safe.
 */
public final class ResponseCodec {
    private final Json json = new Json();

    public byte[] encode(Response response) {
        if (response instanceof Response.Reserved r) {
            JsonWriter w = new JsonWriter(256);
            writeReserved(w, r);
            return w.toBytes();
        }
        return json.write(g -> write(g, response));
    }

    /**
     * The line without its newline, appended to {@code out}: a reserve answer (the daemon's
     * hot path) written straight into it, the others through Jackson's generator.
     */
    public void encode(Response response, JsonWriter out) {
        if (response instanceof Response.Reserved r) {
            writeReserved(out, r);
        } else {
            out.raw(json.write(g -> write(g, response)));
        }
    }

    private static void writeReserved(JsonWriter w, Response.Reserved r) {
        w.startObject();
        Wire.writeId(w, r.id());
        w.field("ok", true);
        w.field("prefix", r.prefix());
        w.strings("ids", r.ids());
        w.numbers("numbers", r.numbers());
        w.field("previous", r.previous());
        w.field("counter", r.counter());
        w.field("next", r.next());
        w.name("reservedAt").timestamp(r.reservedAt());
        if (r.replayed()) {
            w.field("replayed", true);
        }
        w.endObject();
    }

    private static void write(JsonGenerator g, Response response) throws IOException {
        g.writeStartObject();
        Wire.writeId(g, response.id());
        g.writeBooleanField("ok", response.ok());
        if (response instanceof Response.Counters r) {
            Json.writeValue(g, "counters", r.counters());
        } else if (response instanceof Response.Validation r) {
            g.writeBooleanField("allIssued", r.allIssued());
            g.writeArrayFieldStart("results");
            for (Response.Validation.Check c : r.results()) {
                g.writeStartObject();
                g.writeStringField("id", c.id());
                g.writeBooleanField("issued", c.issued());
                Wire.optional(g, "reason", c.reason());
                g.writeEndObject();
            }
            g.writeEndArray();
        } else if (response instanceof Response.CounterSet r) {
            g.writeStringField("prefix", r.prefix());
            g.writeNumberField("previous", r.previous());
            g.writeNumberField("counter", r.counter());
        } else if (response instanceof Response.Initialized r) {
            g.writeNumberField("found", r.found());
            Json.writeValue(g, "before", r.before());
            Json.writeValue(g, "counters", r.after());
        } else if (response instanceof Response.Archived r) {
            g.writeStringField("prefix", r.prefix());
            if (r.restore()) {
                g.writeBooleanField("restore", true);
            }
            Json.writeValue(g, "changed", r.changed());
            Json.writeValue(g, "unchanged", r.unchanged());
            Json.writeValue(g, "active", r.active());
            g.writeNumberField("wrap", r.wrap());
            g.writeNumberField("counter", r.counter());
            g.writeNumberField("next", r.next());
        } else if (response instanceof Response.Hello r) {
            g.writeNumberField("protocol", r.protocol());
            g.writeStringField("version", r.version());
            Wire.writeStrings(g, "capabilities", r.capabilities());
            g.writeNumberField("pid", r.pid());
            g.writeStringField("stateDir", r.stateDir());
            g.writeStringField("epoch", r.epoch());
            g.writeStringField("mode", r.mode());
        } else if (response instanceof Response.Stats r) {
            Json.writeValue(g, "stats", r.values());
        } else if (response instanceof Response.Failure r) {
            g.writeObjectFieldStart("error");
            g.writeStringField("code", r.code().name());
            g.writeStringField("message", r.message());
            g.writeBooleanField("retry", r.retry());
            Json.writeValue(g, "details", r.details());
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    /**
     * Reads a response line. The shape is chosen by the op of the request it answers, since
     * responses do not repeat the op.
     */
    public Response decode(byte[] line, String op) throws ProtocolException {
        Map<String, Object> obj = Wire.readLine(json, line, 0, line.length);
        RequestId id = Wire.requestId(obj);
        JsonFields<ProtocolException> f = Wire.fields(obj, id);
        if (!f.bool("ok")) {
            if (!(obj.get("error") instanceof Map<?, ?>)) {
                throw new ProtocolException(ErrorCode.BAD_REQUEST, "response without error object", id);
            }
            JsonFields<ProtocolException> e = f.nested(obj.get("error"), "response without error object");
            String codeName = e.string("code", true);
            ErrorCode code;
            try {
                code = ErrorCode.valueOf(codeName);
            } catch (IllegalArgumentException unknown) {
                code = ErrorCode.BAD_REQUEST; // a newer daemon's code: still a failure
            }
            return new Response.Failure(id, code, e.string("message", true), e.bool("retry"), e.map("details"));
        }
        switch (op) {
            case "reserve":
                return new Response.Reserved(
                        id,
                        f.string("prefix", true),
                        f.strings("ids", true),
                        f.integers("numbers"),
                        f.integer("previous", 0),
                        f.integer("counter", 0),
                        f.integer("next", 0),
                        f.instant("reservedAt"),
                        f.bool("replayed"));
            case "peek":
                return new Response.Counters(id, f.longs("counters"));
            case "validate":
                List<Response.Validation.Check> checks = new ArrayList<>();
                for (Object o : f.list("results")) {
                    JsonFields<ProtocolException> c = f.nested(o, "\"results\" must hold objects");
                    checks.add(new Response.Validation.Check(
                            c.string("id", true), c.bool("issued"), c.string("reason", false)));
                }
                return new Response.Validation(id, checks);
            case "set":
                return new Response.CounterSet(
                        id, f.string("prefix", true), f.integer("previous", 0), f.integer("counter", 0));
            case "init":
                return new Response.Initialized(
                        id, (int) f.integer("found", 0), f.longs("before"), f.longs("counters"));
            case "archive":
                return new Response.Archived(
                        id,
                        f.string("prefix", true),
                        f.bool("restore"),
                        f.integers("changed"),
                        f.integers("unchanged"),
                        f.integers("active"),
                        f.integer("wrap", 0),
                        f.integer("counter", 0),
                        f.integer("next", 0));
            case "hello":
                return new Response.Hello(
                        id,
                        (int) f.integer("protocol", 0),
                        f.string("version", true),
                        f.strings("capabilities", false),
                        f.integer("pid", 0),
                        f.string("stateDir", true),
                        f.string("epoch", true),
                        f.string("mode", true));
            case "stats":
                return new Response.Stats(id, f.map("stats"));
            case "ping":
                return new Response.Pong(id);
            default:
                throw new IllegalArgumentException("unknown op " + op);
        }
    }
}
