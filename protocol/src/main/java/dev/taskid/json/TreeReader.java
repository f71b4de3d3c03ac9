package dev.taskid.json;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strict UTF-8 JSON text (RFC 8259) to the trees {@link Json} describes, for
 * {@link Json#readObject} and {@link Json#readValue(byte[], int, int)}: what Jackson's parser
 * accepts with its defaults, with its limits (nesting depth 1,000, numbers of 1,000 characters).
 * Written here rather than read through Jackson because every CLI call reads at least one
 * tree, and on JDK 25 the first Jackson parser initialises BigDecimal, whose class
 * initialiser squares its way to 5^65536: ~18 ms of every call (docs/BENCHMARKS.md, "CLI
 * start-up, session 5"). Jackson's streaming parser stays for callers that stream
 * ({@link Json#factory()}); its generator writes everything.
 */
final class TreeReader {
    private static final int MAX_DEPTH = 1000;
    private static final int MAX_NUMBER_CHARS = 1000;

    private final byte[] buf;
    private final int end;
    private int at;
    private int depth;

    private TreeReader(byte[] buf, int offset, int length) {
        this.buf = buf;
        this.at = offset;
        this.end = offset + length;
    }

    /** The one value in {@code buf[offset, offset + length)} ({@code what} names it in the trailing-data error). */
    static Object read(byte[] buf, int offset, int length, String what) throws JsonException {
        TreeReader r = new TreeReader(buf, offset, length);
        r.skipBom();
        r.skipWhitespace();
        Object value = r.value();
        r.skipWhitespace();
        if (r.at < r.end) {
            throw new JsonException("trailing data after the JSON " + what);
        }
        return value;
    }

    /** Whether the text holds nothing but whitespace (and a byte-order mark). */
    static boolean blank(byte[] buf, int offset, int length) {
        TreeReader r = new TreeReader(buf, offset, length);
        r.skipBom();
        r.skipWhitespace();
        return r.at == r.end;
    }

    /** Whether the text's first value is an object. */
    static boolean startsObject(byte[] buf, int offset, int length) {
        TreeReader r = new TreeReader(buf, offset, length);
        r.skipBom();
        r.skipWhitespace();
        return r.at < r.end && r.buf[r.at] == '{';
    }

    private void skipBom() {
        if (end - at >= 3 && buf[at] == (byte) 0xEF && buf[at + 1] == (byte) 0xBB && buf[at + 2] == (byte) 0xBF) {
            at += 3;
        }
    }

    private void skipWhitespace() {
        while (at < end) {
            byte c = buf[at];
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                return;
            }
            at++;
        }
    }

    /** One value; containers recurse here only, one frame per level, as deep as Jackson's limit. */
    private Object value() throws JsonException {
        if (at >= end) {
            throw malformed("unexpected end of input");
        }
        byte c = buf[at];
        if (c == '{') {
            enter();
            Map<String, Object> map = new LinkedHashMap<>();
            if (!closes('}')) {
                do {
                    String name = fieldName();
                    if (map.containsKey(name)) {
                        throw malformed("Duplicate field '" + name + "'");
                    }
                    map.put(name, value());
                } while (next('}', "an object"));
            }
            depth--;
            return map;
        }
        if (c == '[') {
            enter();
            List<Object> list = new ArrayList<>();
            if (!closes(']')) {
                do {
                    skipWhitespace();
                    list.add(value());
                } while (next(']', "an array"));
            }
            depth--;
            return list;
        }
        switch (c) {
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", null);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw malformed("unexpected character " + describe(c));
        }
    }

    /** Past the opening bracket: true (and past it) when {@code close} follows at once. */
    private boolean closes(char close) {
        at++;
        skipWhitespace();
        if (at < end && buf[at] == close) {
            at++;
            return true;
        }
        return false;
    }

    /** After a member: true past a comma, false past {@code close}, else malformed. */
    private boolean next(char close, String in) throws JsonException {
        skipWhitespace();
        if (at < end && buf[at] == ',') {
            at++;
            return true;
        }
        if (at < end && buf[at] == close) {
            at++;
            return false;
        }
        throw malformed(
                at >= end
                        ? "unexpected end of input in " + in
                        : "expected ',' or '" + close + "' in " + in + ", got " + describe(buf[at]));
    }

    /** A member's name and its colon, with the whitespace around them. */
    private String fieldName() throws JsonException {
        skipWhitespace();
        if (at >= end || buf[at] != '"') {
            throw malformed(
                    at >= end
                            ? "unexpected end of input in an object"
                            : "expected a field name in double quotes, got " + describe(buf[at]));
        }
        String name = string();
        checkSurrogates(name);
        skipWhitespace();
        if (at >= end || buf[at] != ':') { // the message built only when it is needed: no concatenation per field
            throw malformed("expected ':' after field name '" + name + "'"
                    + (at >= end ? ", got the end of input" : ", got " + describe(buf[at])));
        }
        at++;
        skipWhitespace();
        return name;
    }

    private void enter() throws JsonException {
        if (++depth > MAX_DEPTH) {
            throw malformed("nesting deeper than " + MAX_DEPTH + " levels");
        }
    }

    private Object literal(String word, Boolean value) throws JsonException {
        int n = word.length();
        boolean ok = end - at >= n;
        for (int i = 0; ok && i < n; i++) {
            ok = buf[at + i] == word.charAt(i);
        }
        // "truex" is one unknown word, not true and then garbage
        if (!ok || (at + n < end && isWordByte(buf[at + n]))) {
            throw malformed("unrecognized token starting with " + describe(buf[at]));
        }
        at += n;
        return value;
    }

    private static boolean isWordByte(byte c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c < 0;
    }

    private Object number() throws JsonException {
        int start = at;
        if (buf[at] == '-') {
            at++;
        }
        if (at >= end || buf[at] < '0' || buf[at] > '9') {
            throw malformed("expected a digit after '-'");
        }
        if (buf[at] == '0') {
            at++;
            if (at < end && buf[at] >= '0' && buf[at] <= '9') {
                throw malformed("leading zeroes are not allowed");
            }
        } else {
            digits();
        }
        boolean integral = true;
        if (at < end && buf[at] == '.') {
            integral = false;
            at++;
            if (digits() == 0) {
                throw malformed("expected a digit after the decimal point");
            }
        }
        if (at < end && (buf[at] == 'e' || buf[at] == 'E')) {
            integral = false;
            at++;
            if (at < end && (buf[at] == '+' || buf[at] == '-')) {
                at++;
            }
            if (digits() == 0) {
                throw malformed("expected a digit in the exponent");
            }
        }
        if (at < end && isWordByte(buf[at])) {
            throw malformed("unexpected character " + describe(buf[at]) + " after a number");
        }
        if (at - start > MAX_NUMBER_CHARS) {
            throw malformed("number longer than " + MAX_NUMBER_CHARS + " characters");
        }
        String text = new String(buf, start, at - start, StandardCharsets.ISO_8859_1);
        if (!integral) {
            return Double.parseDouble(text);
        }
        if (at - start <= 18) {
            return Long.parseLong(text);
        }
        BigInteger big = new BigInteger(text);
        return big.bitLength() < 64 ? (Object) big.longValue() : big;
    }

    private int digits() {
        int n = 0;
        while (at < end && buf[at] >= '0' && buf[at] <= '9') {
            at++;
            n++;
        }
        return n;
    }

    private String string() throws JsonException {
        at++; // "
        int start = at;
        while (at < end) { // the common case: ASCII without escapes
            byte c = buf[at];
            if (c == '"') {
                return new String(buf, start, at++ - start, StandardCharsets.ISO_8859_1);
            }
            if (c == '\\' || c < 0x20) { // also every non-ASCII byte (negative)
                break;
            }
            at++;
        }
        StringBuilder s = new StringBuilder(at - start + 16);
        for (int i = start; i < at; i++) {
            s.append((char) buf[i]);
        }
        while (at < end) {
            int c = buf[at] & 0xFF;
            if (c == '"') {
                at++;
                return s.toString();
            }
            if (c == '\\') {
                escape(s);
            } else if (c < 0x20) {
                throw malformed("unescaped control character (code " + c + ") in a string");
            } else if (c < 0x80) {
                s.append((char) c);
                at++;
            } else {
                utf8(s, c);
            }
        }
        throw malformed("unexpected end of input in a string");
    }

    /** As Jackson: a field name's escaped surrogates come in pairs (a value's may stand alone). */
    private void checkSurrogates(String name) throws JsonException {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < name.length() && Character.isLowSurrogate(name.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw malformed("broken surrogate pair in field name");
            }
        }
    }

    private void escape(StringBuilder s) throws JsonException {
        if (at + 1 >= end) {
            throw malformed("unexpected end of input in a string");
        }
        byte e = buf[at + 1];
        at += 2;
        switch (e) {
            case '"' -> s.append('"');
            case '\\' -> s.append('\\');
            case '/' -> s.append('/');
            case 'b' -> s.append('\b');
            case 'f' -> s.append('\f');
            case 'n' -> s.append('\n');
            case 'r' -> s.append('\r');
            case 't' -> s.append('\t');
            case 'u' -> {
                if (end - at < 4) {
                    throw malformed("unexpected end of input in a \\u escape");
                }
                int v = 0;
                for (int i = 0; i < 4; i++) {
                    int d = Character.digit(buf[at + i], 16);
                    if (d < 0 || buf[at + i] < 0) {
                        throw malformed("expected 4 hex digits after \\u");
                    }
                    v = v * 16 + d;
                }
                at += 4;
                s.append((char) v);
            }
            default -> throw malformed("unrecognized escape " + describe(e) + " in a string");
        }
    }

    /** One UTF-8 sequence starting with {@code first} (>= 0x80): shortest form, no surrogates, at most U+10FFFF. */
    private void utf8(StringBuilder s, int first) throws JsonException {
        int n;
        int cp;
        int min;
        if (first >= 0xC2 && first <= 0xDF) {
            n = 1;
            cp = first & 0x1F;
            min = 0x80;
        } else if (first >= 0xE0 && first <= 0xEF) {
            n = 2;
            cp = first & 0x0F;
            min = 0x800;
        } else if (first >= 0xF0 && first <= 0xF4) {
            n = 3;
            cp = first & 0x07;
            min = 0x10000;
        } else {
            throw malformed("invalid UTF-8 start byte 0x" + Integer.toHexString(first));
        }
        if (end - at <= n) {
            throw malformed("unexpected end of input in a UTF-8 sequence");
        }
        for (int i = 1; i <= n; i++) {
            int b = buf[at + i] & 0xFF;
            if ((b & 0xC0) != 0x80) {
                throw malformed("invalid UTF-8 middle byte 0x" + Integer.toHexString(b));
            }
            cp = (cp << 6) | (b & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            throw malformed("invalid UTF-8 sequence");
        }
        at += n + 1;
        s.appendCodePoint(cp);
    }

    private static String describe(byte c) {
        int v = c & 0xFF;
        return v >= 0x21 && v < 0x7F ? "'" + (char) v + "'" : "(code " + v + ")";
    }

    private JsonException malformed(String why) {
        return new JsonException("malformed JSON: " + why);
    }
}
