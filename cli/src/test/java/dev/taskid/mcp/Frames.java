package dev.taskid.mcp;

import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import java.io.IOException;

/** The MCP tests' view of JSON text: the generic layer, with unreadable text as an IOException. */
final class Frames {
    private static final Json JSON = new Json();

    private Frames() {}

    static Object parse(String text) throws IOException {
        try {
            return JSON.readValue(text);
        } catch (JsonException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    static String writeString(Object value) {
        return JSON.writeString(value);
    }
}
