package dev.taskid.mcp;

import dev.taskid.json.Json;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks a tool call's arguments against the tool's inputSchema (the subset tools.json uses:
 * type string/integer/boolean/array/object, items, properties, required, minimum/maximum,
 * minLength/maxLength, minItems/maxItems), and refuses arguments the schema does not name (at
 * the top, and inside objects). A wrong type is refused, never converted: "2" is not 2, and null
 * is not "absent".
 */
final class ToolArguments {
    private static final Json JSON = new Json();
    /** What is wrong, and with which argument. */
    record Problem(String argument, String message) {}

    private ToolArguments() {}

    static Optional<Problem> check(Map<String, Object> schema, Map<String, Object> args) {
        return fields(schema, args).map(f -> new Problem(f.name(), "argument \"" + f.name() + "\" " + f.problem()));
    }

    /** Which field of an object is wrong, and how. */
    private record Field(String name, String problem) {}

    /** The object {@code m} against an object schema: unknown fields first, then each value, then the required ones. */
    @SuppressWarnings("unchecked")
    private static Optional<Field> fields(Map<String, Object> schema, Map<String, Object> m) {
        Map<String, Object> properties =
                schema.get("properties") instanceof Map<?, ?> p ? (Map<String, Object>) p : Map.of();
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (!properties.containsKey(e.getKey())) {
                return Optional.of(
                        new Field(e.getKey(), "is unknown (known: " + String.join(", ", properties.keySet()) + ")"));
            }
            Optional<String> wrong = value((Map<String, Object>) properties.get(e.getKey()), e.getValue());
            if (wrong.isPresent()) {
                return Optional.of(new Field(e.getKey(), wrong.get()));
            }
        }
        if (schema.get("required") instanceof List<?> required) {
            for (Object name : required) {
                if (!m.containsKey(name)) {
                    return Optional.of(new Field((String) name, "is required"));
                }
            }
        }
        return Optional.empty();
    }

    @SuppressWarnings("unchecked")
    private static Optional<String> value(Map<String, Object> schema, Object v) {
        String type = (String) schema.get("type");
        String got = v == null
                ? "null"
                : v instanceof String s
                        ? "the string \"" + shorten(s) + "\""
                        : JSON.writeString(v).length() > 40 ? v.getClass().getSimpleName() : JSON.writeString(v);
        switch (type == null ? "" : type) {
            case "string":
                if (!(v instanceof String s)) {
                    return Optional.of("must be a string, got " + got);
                }
                if (schema.get("minLength") instanceof Long min && s.length() < min) {
                    return Optional.of("must be at least " + min + " characters long");
                }
                if (schema.get("maxLength") instanceof Long max && s.length() > max) {
                    return Optional.of("must be at most " + max + " characters long");
                }
                return Optional.empty();
            case "integer":
                if (v instanceof BigInteger) {
                    return Optional.of("is too large: " + v);
                }
                if (!(v instanceof Long n)) {
                    return Optional.of("must be an integer, got " + got);
                }
                if (schema.get("minimum") instanceof Long min && n < min) {
                    return Optional.of("must be at least " + min + ", got " + n);
                }
                if (schema.get("maximum") instanceof Long max && n > max) {
                    return Optional.of("must be at most " + max + ", got " + n);
                }
                return Optional.empty();
            case "boolean":
                return v instanceof Boolean ? Optional.empty() : Optional.of("must be true or false, got " + got);
            case "array":
                if (!(v instanceof List<?> list)) {
                    return Optional.of("must be an array, got " + got);
                }
                if (schema.get("minItems") instanceof Long min && list.size() < min) {
                    return Optional.of("must hold at least " + min + " item" + (min == 1 ? "" : "s"));
                }
                if (schema.get("maxItems") instanceof Long max && list.size() > max) {
                    return Optional.of("must hold at most " + max + " items, got " + list.size());
                }
                if (schema.get("items") instanceof Map<?, ?> items) {
                    for (int i = 0; i < list.size(); i++) {
                        Optional<String> wrong = value((Map<String, Object>) items, list.get(i));
                        if (wrong.isPresent()) {
                            return Optional.of("item " + i + " " + wrong.get());
                        }
                    }
                }
                return Optional.empty();
            case "object":
                if (!(v instanceof Map<?, ?> object)) {
                    return Optional.of("must be an object, got " + got);
                }
                return fields(schema, (Map<String, Object>) object)
                        .map(f -> "field \"" + f.name() + "\" " + f.problem());
            default:
                return Optional.empty();
        }
    }

    private static String shorten(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
