package dev.taskid.inbox;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.DurableFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An inbox file: {@code {"tasks":[{"id":"SEC-20","title":"...","priority":"High","source":"...",
 * "files":[...],"estimate":"1h","status":"ready"}, ...]}} (other top-level fields and task
 * fields are kept as they are). A rejected task carries {@code "reason"}.
 *
 * <p>Read without a lock (a reader sees a whole version: writers rename), written only under
 * the inbox lock with {@link DurableFiles#replace}. An unparseable file is STATE_CORRUPT and is
 * never overwritten.
 */
public final class InboxFile {
    /** The field a rejected task carries. */
    public static final String REASON = "reason";

    private InboxFile() {}

    /** One task and the line its object starts on. */
    public record Entry(Map<String, Object> task, int line) {
        public Entry {
            task = new LinkedHashMap<>(task);
        }

        /** The {@code id} field if it is a string, else null. */
        public String id() {
            return task.get("id") instanceof String s ? s : null;
        }

        public String reason() {
            return task.get(REASON) instanceof String s ? s : null;
        }

        /** The task without {@code reason}: what identifies it across reads. */
        public Map<String, Object> identity() {
            return withoutReason(task);
        }
    }

    /** A file's tasks and its other top-level fields; {@code exists} is false for a missing file. */
    public record Content(Path path, boolean exists, Map<String, Object> top, List<Entry> entries) {}

    static Map<String, Object> withoutReason(Map<String, Object> task) {
        Map<String, Object> m = new LinkedHashMap<>(task);
        m.remove(REASON);
        return m;
    }

    /** Reads {@code path}; a missing or empty file is an empty inbox. */
    public static Content read(Path path, JsonFactory factory) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            return new Content(path, false, new LinkedHashMap<>(), new ArrayList<>());
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot read " + path + ": " + e.getMessage(), Map.of(), e);
        }
        if (new String(bytes, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
            return new Content(path, true, new LinkedHashMap<>(), new ArrayList<>());
        }
        try {
            return parse(path, bytes, factory);
        } catch (IOException | IllegalArgumentException e) {
            throw new TaskIdException(
                    ErrorCode.STATE_CORRUPT,
                    path + " is not a valid inbox (" + firstLine(e.getMessage())
                            + "). It was left untouched; fix it by hand: {\"tasks\":[{\"id\":\"SEC-20\",\"title\":\"...\"}]}",
                    Map.of("file", path.toString()),
                    e);
        }
    }

    private static Content parse(Path path, byte[] bytes, JsonFactory factory) throws IOException {
        Map<String, Object> top = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        try (JsonParser p = factory.createParser(bytes)) {
            JsonToken t = p.nextToken();
            if (t == JsonToken.START_ARRAY) {
                readTasks(p, entries);
            } else if (t == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    if (name.equals("tasks")) {
                        if (p.currentToken() != JsonToken.START_ARRAY) {
                            throw new IllegalArgumentException("\"tasks\" is not an array");
                        }
                        readTasks(p, entries);
                        top.put("tasks", null);
                    } else {
                        top.put(name, readValue(p));
                    }
                }
            } else {
                throw new IllegalArgumentException("expected a JSON object {\"tasks\":[...]}");
            }
            if (p.nextToken() != null) {
                throw new IllegalArgumentException("trailing data after the JSON value");
            }
        }
        return new Content(path, true, top, entries);
    }

    private static void readTasks(JsonParser p, List<Entry> entries) throws IOException {
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("task " + (entries.size() + 1) + " is not a JSON object");
            }
            int line = p.currentTokenLocation().getLineNr();
            @SuppressWarnings("unchecked")
            Map<String, Object> task = (Map<String, Object>) readValue(p);
            entries.add(new Entry(task, line));
        }
    }

    /** One JSON value (the parser is on its first token); decimals kept exactly as written. */
    static Object readValue(JsonParser p) throws IOException {
        return Json.readValue(p, true);
    }

    /** Reads a JSON text (one value) into maps and lists, for submitted tasks. */
    static Object parseValue(byte[] bytes, JsonFactory factory) throws IOException {
        try (JsonParser p = factory.createParser(bytes)) {
            if (p.nextToken() == null) {
                throw new IOException("no JSON value");
            }
            Object value = readValue(p);
            if (p.nextToken() != null) {
                throw new IOException("trailing data after the JSON value");
            }
            return value;
        }
    }

    /** The file's bytes for {@code tasks}: the other top-level fields kept, in the seed's layout. */
    static byte[] encode(Map<String, Object> top, List<Map<String, Object>> tasks, JsonFactory factory) {
        Map<String, Object> out = new LinkedHashMap<>(top);
        out.put("tasks", tasks);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = factory.createGenerator(bytes)) {
            DefaultPrettyPrinter pretty = new DefaultPrettyPrinter()
                    .withSeparators(Separators.createDefaultInstance()
                            .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                            .withObjectEmptySeparator("")
                            .withArrayEmptySeparator(""));
            pretty.indentArraysWith(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"));
            pretty.indentObjectsWith(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"));
            g.setPrettyPrinter(pretty);
            Json.writeValue(g, out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        bytes.write('\n');
        return bytes.toByteArray();
    }

    /** Writes {@code tasks} durably (the caller holds the inbox lock). */
    static void write(Path path, Map<String, Object> top, List<Map<String, Object>> tasks, JsonFactory factory) {
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            DurableFiles.replace(path, encode(top, tasks, factory));
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "could not save " + path + " (" + e + "); it is unchanged."
                            + " Fix the disk (space, read-only mount, permissions) and retry.",
                    Map.of("file", path.toString()),
                    e);
        }
    }

    static boolean sameTask(Map<String, Object> a, Map<String, Object> b) {
        return Objects.equals(withoutReason(a), withoutReason(b));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** For messages: the JSON of one value on one line. */
    static String oneLine(Json json, Map<String, Object> task) {
        return new String(
                json.write(g -> {
                    g.writeStartObject();
                    for (Map.Entry<String, Object> e : task.entrySet()) {
                        Json.writeValue(g, e.getKey(), e.getValue());
                    }
                    g.writeEndObject();
                }),
                java.nio.charset.StandardCharsets.UTF_8);
    }
}
