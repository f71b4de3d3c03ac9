package dev.taskid.json;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The fast path of {@link Json#readObject(byte[], int, int)} for what nearly every protocol line
 * is: one flat object whose values are printable-ASCII strings without escapes, integers of at
 * most 18 digits, true, false or null. Read in one pass without a parser object. Anything else
 * (escapes, other bytes, nesting, fractions, big numbers, a duplicate key, malformed text) gives
 * null and is read by Jackson, which also makes every error message: so for the lines accepted
 * here the tree is exactly the one Jackson builds, and for all others nothing changes.
 */
final class FlatObjects {
    /** Names and values seen on every line, returned as constants instead of new Strings. */
    private static final String[] COMMON = {
        "id", "op", "key", "ping", "peek", "count", "agent", "hello", "stats", "prefix", "purpose", "reserve"
    };

    private static final byte[][] COMMON_BYTES = new byte[COMMON.length][];

    static {
        for (int i = 0; i < COMMON.length; i++) {
            COMMON_BYTES[i] = COMMON[i].getBytes(StandardCharsets.US_ASCII);
        }
    }

    private final byte[] b;
    private final int end;
    private int at;
    /** Whether the last {@link #value} read a JSON null (rather than failing). */
    private boolean nullTaken;

    private FlatObjects(byte[] b, int at, int end) {
        this.b = b;
        this.at = at;
        this.end = end;
    }

    /** The object in {@code b[offset, offset + length)}, or null when Jackson must read it. */
    static Map<String, Object> read(byte[] b, int offset, int length) {
        return new FlatObjects(b, offset, offset + length).object();
    }

    private Map<String, Object> object() {
        skipSpace();
        if (!take('{')) {
            return null;
        }
        Map<String, Object> map = new LinkedHashMap<>();
        skipSpace();
        if (!take('}')) {
            do {
                skipSpace();
                String name = string();
                skipSpace();
                if (name == null || !take(':') || map.containsKey(name)) {
                    return null;
                }
                skipSpace();
                Object value = value();
                if (value == null && !nullTaken) {
                    return null;
                }
                map.put(name, value);
                skipSpace();
            } while (take(','));
            if (!take('}')) {
                return null;
            }
        }
        skipSpace();
        return at == end ? map : null;
    }

    private Object value() {
        nullTaken = false;
        if (at >= end) {
            return null;
        }
        byte c = b[at];
        if (c == '"') {
            return string();
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            return number();
        }
        if (literal("true")) {
            return Boolean.TRUE;
        }
        if (literal("false")) {
            return Boolean.FALSE;
        }
        if (literal("null")) {
            nullTaken = true;
        }
        return null;
    }

    /** A string of printable ASCII without escapes; null for anything else. */
    private String string() {
        if (!take('"')) {
            return null;
        }
        int start = at;
        while (at < end) {
            byte c = b[at];
            if (c == '"') {
                String s = text(start, at);
                at++;
                return s;
            }
            if (c < 0x20 || c == '\\' || c >= 0x7F) { // negative bytes: non-ASCII
                return null;
            }
            at++;
        }
        return null;
    }

    private String text(int from, int to) {
        int n = to - from;
        for (int i = 0; i < COMMON_BYTES.length; i++) {
            byte[] k = COMMON_BYTES[i];
            if (k.length == n && java.util.Arrays.equals(b, from, to, k, 0, n)) {
                return COMMON[i];
            }
        }
        return new String(b, from, n, StandardCharsets.US_ASCII);
    }

    /** -?(0|[1-9][0-9]*), at most 18 digits, followed by a delimiter; null for anything else. */
    private Long number() {
        boolean negative = take('-');
        int start = at;
        long v = 0;
        while (at < end && b[at] >= '0' && b[at] <= '9') {
            v = v * 10 + (b[at] - '0');
            at++;
        }
        int digits = at - start;
        if (digits == 0 || digits > 18 || (digits > 1 && b[start] == '0') || !delimiter()) {
            return null; // fractions, exponents, leading zeros, long or malformed numbers: Jackson's
        }
        return negative ? -v : v;
    }

    private boolean literal(String word) {
        int n = word.length();
        if (end - at < n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (b[at + i] != word.charAt(i)) {
                return false;
            }
        }
        at += n;
        return delimiter();
    }

    /** The end, whitespace, a comma or the closing brace follows. */
    private boolean delimiter() {
        if (at == end) {
            return true;
        }
        byte c = b[at];
        return c == ',' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    private boolean take(char c) {
        if (at < end && b[at] == c) {
            at++;
            return true;
        }
        return false;
    }

    private void skipSpace() {
        while (at < end) {
            byte c = b[at];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            at++;
        }
    }
}
