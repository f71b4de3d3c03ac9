package dev.taskid.json;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Typed access to the fields of one JSON object read by {@link Json}: a wrong type, a null
 * where a value is needed or an over-long array is an error that names the field, never a
 * guess or a ClassCastException. The errors are made by {@code errors}, so that the wire codec
 * throws its coded ProtocolException and a file reader a {@link JsonException}.
 *
 * @param <E> what a wrong field throws
 */
public final class JsonFields<E extends Exception> {
    /** Arrays longer than this are refused: a reader never builds an unbounded list. */
    public static final int MAX_LIST = 10_000;

    /** Makes the error for a message that names the field. */
    @FunctionalInterface
    public interface Errors<E extends Exception> {
        E error(String message);
    }

    private final Map<String, Object> obj;
    private final Errors<E> errors;

    public JsonFields(Map<String, Object> obj, Errors<E> errors) {
        this.obj = obj;
        this.errors = errors;
    }

    /** Fields that throw {@link JsonException}. */
    public static JsonFields<JsonException> of(Map<String, Object> obj) {
        return new JsonFields<>(obj, JsonException::new);
    }

    /** The fields of {@code value}, an element of this object's arrays, with the same errors. */
    @SuppressWarnings("unchecked")
    public JsonFields<E> nested(Object value, String what) throws E {
        if (!(value instanceof Map<?, ?> m)) {
            throw errors.error(what);
        }
        return new JsonFields<>((Map<String, Object>) m, errors);
    }

    public boolean has(String name) {
        return obj.containsKey(name);
    }

    public Object raw(String name) {
        return obj.get(name);
    }

    public String string(String name, boolean required) throws E {
        Object v = obj.get(name);
        if (v == null) {
            if (required) {
                throw errors.error("missing string field \"" + name + "\"");
            }
            return null;
        }
        if (!(v instanceof String s)) {
            throw errors.error("field \"" + name + "\" must be a string");
        }
        return s;
    }

    /** Absent: false; null or another type: an error. */
    public boolean bool(String name) throws E {
        Object v = obj.get(name);
        if (v == null) {
            if (obj.containsKey(name)) {
                throw errors.error("field \"" + name + "\" must be true or false, got null");
            }
            return false;
        }
        if (!(v instanceof Boolean b)) {
            throw errors.error("field \"" + name + "\" must be true or false");
        }
        return b;
    }

    /** Absent: {@code absent}; null or another type: an error, never a guess. */
    public long integer(String name, long absent) throws E {
        Object v = obj.get(name);
        if (v == null && !obj.containsKey(name)) {
            return absent;
        }
        if (!(v instanceof Long l)) {
            throw errors.error("field \"" + name + "\" must be an integer, got "
                    + (v instanceof String ? "the string \"" + v + "\"" : v));
        }
        return l;
    }

    /** A field that must be present and an integer. */
    public long required(String name) throws E {
        if (obj.get(name) == null) {
            throw errors.error("missing integer field \"" + name + "\"");
        }
        return integer(name, 0);
    }

    /** A non-negative integer that fits an int: a cast would silently turn 2^32+1 into 1. */
    public int int32(String name, int absent) throws E {
        long v = integer(name, absent);
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw errors.error(
                    "field \"" + name + "\" must be an integer from 0 to " + Integer.MAX_VALUE + ", got " + v);
        }
        return (int) v;
    }

    public Instant instant(String name) throws E {
        String text = string(name, true);
        try {
            return Timestamps.parse(text);
        } catch (DateTimeParseException e) {
            throw errors.error("field \"" + name + "\" must be a time like 2026-02-19T18:00:00.000Z, got " + text);
        }
    }

    /** Absent: empty; null, another type or more than {@link #MAX_LIST} items: an error. */
    public List<Object> list(String name) throws E {
        Object v = obj.get(name);
        if (v == null) {
            if (obj.containsKey(name)) {
                throw errors.error("field \"" + name + "\" must be an array, got null");
            }
            return List.of();
        }
        if (!(v instanceof List<?> l)) {
            throw errors.error("field \"" + name + "\" must be an array");
        }
        if (l.size() > MAX_LIST) {
            throw errors.error("field \"" + name + "\" has more than " + MAX_LIST + " items");
        }
        @SuppressWarnings("unchecked")
        List<Object> items = (List<Object>) l;
        return items;
    }

    public List<String> strings(String name, boolean required) throws E {
        if (required && obj.get(name) == null) {
            throw errors.error("missing array field \"" + name + "\"");
        }
        List<Object> items = list(name);
        List<String> out = new ArrayList<>(items.size());
        for (Object o : items) {
            if (!(o instanceof String s)) {
                throw errors.error("field \"" + name + "\" must hold only strings");
            }
            out.add(s);
        }
        return out;
    }

    public List<Long> integers(String name) throws E {
        List<Object> items = list(name);
        List<Long> out = new ArrayList<>(items.size());
        for (Object o : items) {
            if (!(o instanceof Long l)) {
                throw errors.error("field \"" + name + "\" must hold only integers");
            }
            out.add(l);
        }
        return out;
    }

    /** Absent: empty; null or another type: an error. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> map(String name) throws E {
        Object v = obj.get(name);
        if (v == null) {
            if (obj.containsKey(name)) {
                throw errors.error("field \"" + name + "\" must be an object, got null");
            }
            return Map.of();
        }
        if (!(v instanceof Map<?, ?>)) {
            throw errors.error("field \"" + name + "\" must be an object");
        }
        return (Map<String, Object>) v;
    }

    /** An object of names to integers, sorted by name. */
    public TreeMap<String, Long> longs(String name) throws E {
        TreeMap<String, Long> out = new TreeMap<>();
        for (Map.Entry<String, Object> e : map(name).entrySet()) {
            if (!(e.getValue() instanceof Long l)) {
                throw errors.error("field \"" + name + "\" must map names to integers");
            }
            out.put(e.getKey(), l);
        }
        return out;
    }
}
