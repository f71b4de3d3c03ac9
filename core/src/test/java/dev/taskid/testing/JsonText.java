package dev.taskid.testing;

import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.state.AuditReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reading what processes print and what taskid writes: JSON lines, the audit log. */
public final class JsonText {
    private static final Json JSON = new Json();

    private JsonText() {}

    /** One JSON object from a line of output (surrounding white space ignored). */
    public static Map<String, Object> object(String line) throws JsonException {
        byte[] b = line.trim().getBytes(StandardCharsets.UTF_8);
        return JSON.readObject(b, 0, b.length);
    }

    /** A JSON array of strings, as read by {@link #object}. */
    public static List<String> strings(Object list) {
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) list) {
            out.add((String) o);
        }
        return out;
    }

    /** Every line of the state directory's audit log and its rotated files. */
    public static List<Map<String, Object>> auditLines(Path state) throws IOException, JsonException {
        List<Map<String, Object>> lines = new ArrayList<>();
        for (Path f : AuditReader.files(state)) {
            for (String l : Files.readAllLines(f)) {
                lines.add(object(l));
            }
        }
        return lines;
    }
}
