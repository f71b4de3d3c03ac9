package dev.taskid.json;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * Compact JSON into a reusable byte array, for the lines written on the daemon's hot paths
 * (reserve answers, audit lines): no generator object, no output stream, nothing allocated per
 * line once the array is big enough. The bytes are those Jackson's generator writes for the
 * same calls (escapes included: {@code \"}, {@code \\}, {@code \n}-style short escapes, other
 * control characters and every UTF-16 surrogate as an upper-case {@code \\uXXXX}, other
 * characters as UTF-8), so readers cannot tell which one wrote a line. Objects and arrays are
 * written with {@link #startObject}/{@link #endObject} and their kin; commas are placed here.
 * Not thread-safe: one per thread or per call.
 */
public final class JsonWriter {
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int MAX_DEPTH = 32;

    private byte[] buf;
    private int len;
    /** Per open object/array level: whether a value was written already (a comma goes before the next). */
    private final boolean[] started = new boolean[MAX_DEPTH];

    private int depth;

    public JsonWriter(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    /** Empties the writer for the next line; the array is kept. */
    public JsonWriter reset() {
        len = 0;
        depth = 0;
        started[0] = false;
        return this;
    }

    /** The bytes written so far are {@code array()[0, length())}. */
    public byte[] array() {
        return buf;
    }

    public int length() {
        return len;
    }

    /** A copy of the bytes written. */
    public byte[] toBytes() {
        return Arrays.copyOf(buf, len);
    }

    public JsonWriter startObject() {
        return open('{');
    }

    public JsonWriter endObject() {
        return close('}');
    }

    public JsonWriter startArray() {
        return open('[');
    }

    public JsonWriter endArray() {
        return close(']');
    }

    /** A field's name; its value follows. */
    public JsonWriter name(String name) {
        comma();
        quoted(name);
        put((byte) ':');
        started[depth] = false; // the value that follows takes no comma
        return this;
    }

    public JsonWriter string(String value) {
        if (value == null) {
            return nullValue();
        }
        comma();
        quoted(value);
        return this;
    }

    public JsonWriter number(long value) {
        comma();
        ensure(20);
        if (value < 0) {
            if (value == Long.MIN_VALUE) {
                return raw("-9223372036854775808");
            }
            buf[len++] = '-';
            value = -value;
        }
        int digits = 1;
        for (long v = value; v >= 10; v /= 10) {
            digits++;
        }
        for (int i = len + digits - 1; i >= len; i--) {
            buf[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        len += digits;
        return this;
    }

    /** A number given as its JSON text (an id echoed as the client sent it), written as is. */
    public JsonWriter rawNumber(String text) {
        comma();
        return raw(text);
    }

    /** JSON text made elsewhere (one whole value), appended as is. */
    public JsonWriter raw(byte[] json) {
        comma();
        ensure(json.length);
        System.arraycopy(json, 0, buf, len, json.length);
        len += json.length;
        return this;
    }

    public JsonWriter bool(boolean value) {
        comma();
        return raw(value ? "true" : "false");
    }

    public JsonWriter nullValue() {
        comma();
        return raw("null");
    }

    /** A time as {@link Timestamps#format} writes it, as a string. */
    public JsonWriter timestamp(Instant time) {
        if (!Timestamps.plain(time)) {
            return string(Timestamps.format(time));
        }
        comma();
        ensure(Timestamps.LENGTH + 2);
        buf[len++] = '"';
        Timestamps.write(time, buf, len);
        len += Timestamps.LENGTH;
        buf[len++] = '"';
        return this;
    }

    public JsonWriter field(String name, String value) {
        return name(name).string(value);
    }

    /** The field when {@code value} is not null; nothing otherwise (an optional field is absent, not null). */
    public JsonWriter optional(String name, String value) {
        return value == null ? this : field(name, value);
    }

    public JsonWriter field(String name, long value) {
        return name(name).number(value);
    }

    public JsonWriter field(String name, boolean value) {
        return name(name).bool(value);
    }

    /** An array of strings. */
    public JsonWriter strings(String name, List<String> values) {
        name(name).startArray();
        for (String v : values) {
            string(v);
        }
        return endArray();
    }

    /** An array of numbers. */
    public JsonWriter numbers(String name, List<Long> values) {
        name(name).startArray();
        for (Long v : values) {
            number(v);
        }
        return endArray();
    }

    /** Ends a line: the next value starts a new line (no comma). */
    public JsonWriter newline() {
        put((byte) '\n');
        started[depth] = false;
        return this;
    }

    private JsonWriter open(char c) {
        comma();
        if (depth + 1 >= MAX_DEPTH) {
            throw new IllegalStateException("JSON nested deeper than " + MAX_DEPTH);
        }
        put((byte) c);
        started[++depth] = false;
        return this;
    }

    private JsonWriter close(char c) {
        put((byte) c);
        depth--;
        return this;
    }

    private void comma() {
        if (started[depth]) {
            put((byte) ',');
        }
        started[depth] = true;
    }

    private JsonWriter raw(String ascii) {
        int n = ascii.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) ascii.charAt(i);
        }
        return this;
    }

    private void quoted(String s) {
        int n = s.length();
        ensure(n + 2);
        buf[len++] = '"';
        int i = 0;
        // the common case: printable ASCII without quotes or backslashes, one byte each
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
                break;
            }
            buf[len++] = (byte) c;
        }
        for (; i < n; i++) {
            escaped(s.charAt(i));
        }
        put((byte) '"');
    }

    private void escaped(char c) {
        ensure(6);
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            buf[len++] = (byte) c;
        } else if (c == '"' || c == '\\') {
            buf[len++] = '\\';
            buf[len++] = (byte) c;
        } else if (c < 0x20) {
            char shortEscape = switch (c) {
                case '\b' -> 'b';
                case '\t' -> 't';
                case '\n' -> 'n';
                case '\f' -> 'f';
                case '\r' -> 'r';
                default -> 0;
            };
            if (shortEscape != 0) {
                buf[len++] = '\\';
                buf[len++] = (byte) shortEscape;
            } else {
                unicodeEscape(c);
            }
        } else if (c < 0x80) {
            buf[len++] = (byte) c; // DEL is not escaped
        } else if (c < 0x800) {
            buf[len++] = (byte) (0xC0 | (c >> 6));
            buf[len++] = (byte) (0x80 | (c & 0x3F));
        } else if (Character.isSurrogate(c)) {
            unicodeEscape(c); // as Jackson does: surrogates (paired or not) are escaped one by one
        } else {
            buf[len++] = (byte) (0xE0 | (c >> 12));
            buf[len++] = (byte) (0x80 | ((c >> 6) & 0x3F));
            buf[len++] = (byte) (0x80 | (c & 0x3F));
        }
    }

    private void unicodeEscape(char c) {
        buf[len++] = '\\';
        buf[len++] = 'u';
        buf[len++] = HEX[(c >> 12) & 0xF];
        buf[len++] = HEX[(c >> 8) & 0xF];
        buf[len++] = HEX[(c >> 4) & 0xF];
        buf[len++] = HEX[c & 0xF];
    }

    private void put(byte b) {
        ensure(1);
        buf[len++] = b;
    }

    private void ensure(int more) {
        if (len + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(len + more, 2 * buf.length));
        }
    }
}
