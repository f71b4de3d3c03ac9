package dev.taskid.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.json.JsonFields;
import dev.taskid.json.JsonWriter;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** What the request and response codecs share: reading a line, the id, typed fields with error codes. */
final class Wire {
    private Wire() {}

    /** One line's object; malformed JSON is BAD_REQUEST. */
    static Map<String, Object> readLine(Json json, byte[] buf, int offset, int length) throws ProtocolException {
        try {
            return json.readObject(buf, offset, length);
        } catch (JsonException e) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, e.getMessage(), null);
        }
    }

    /** The object's fields; a wrong one is BAD_REQUEST, answered with the request's id. */
    static JsonFields<ProtocolException> fields(Map<String, Object> obj, RequestId id) {
        return new JsonFields<>(obj, message -> new ProtocolException(ErrorCode.BAD_REQUEST, message, id));
    }

    static RequestId requestId(Map<String, Object> obj) throws ProtocolException {
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

    static void writeId(JsonGenerator g, RequestId id) throws IOException {
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

    static void writeId(JsonWriter w, RequestId id) {
        if (id == null) {
            return;
        }
        w.name("id");
        if (id.numeric()) {
            w.rawNumber(id.text());
        } else {
            w.string(id.text());
        }
    }

    static void optional(JsonGenerator g, String field, String value) throws IOException {
        if (value != null) {
            g.writeStringField(field, value);
        }
    }

    static void writeStrings(JsonGenerator g, String field, List<String> values) throws IOException {
        g.writeArrayFieldStart(field);
        for (String v : values) {
            g.writeString(v);
        }
        g.writeEndArray();
    }
}
