package dev.taskid.mcp;

import dev.taskid.json.Json;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks a tool call's arguments against the tool's inputSchema (the subset tools.json uses:
 * type string/integer/boolean/array, items, required, minimum, minLength/maxLength,
 * minItems/maxItems), and refuses arguments the schema does not name. A wrong type is
 * refused, never converted: "2" is not 2, and null is not "absent".
 */
final class ToolArguments {
    private static final Json JSON = new Json();
    /** What is wrong, and with which argument. */
    record Problem(String argument, String message) {
    }

    private ToolArguments() {
    }

    @SuppressWarnings("unchecked")
    static Optional<Problem> check(Map<String, Object> schema, Map<String, Object> args) {
        Map<String, Object> properties = schema.get("properties") instanceof Map<?, ?> p
                ? (Map<String, Object>) p : Map.of();
        for (Map.Entry<String, Object> e : args.entrySet()) {
            if (!properties.containsKey(e.getKey())) {
                return Optional.of(new Problem(e.getKey(), "unknown argument \"" + e.getKey() + "\" (known: "
                        + String.join(", ", properties.keySet()) + ")"));
            }
            Optional<String> wrong = value((Map<String, Object>) properties.get(e.getKey()), e.getValue());
            if (wrong.isPresent()) {
                return Optional.of(new Problem(e.getKey(), "argument \"" + e.getKey() + "\" " + wrong.get()));
            }
        }
        if (schema.get("required") instanceof List<?> required) {
            for (Object name : required) {
                if (!args.containsKey(name)) {
                    return Optional.of(new Problem((String) name, "argument \"" + name + "\" is required"));
                }
            }
        }
        return Optional.empty();
    }

    @SuppressWarnings("unchecked")
    private static Optional<String> value(Map<String, Object> schema, Object v) {
        String type = (String) schema.get("type");
        String got = v == null ? "null" : v instanceof String s ? "the string \"" + shorten(s) + "\""
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
            default:
                return Optional.empty();
        }
    }

    private static String shorten(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
