package dev.taskid.protocol;

import java.util.Optional;
import java.util.regex.Pattern;

/** A task ID such as {@code SEC-20}: a prefix and a positive number. */
public record TaskId(String prefix, long number) {
    /** Upper-case letter, then up to 15 upper-case letters or digits. */
    public static final Pattern PREFIX = Pattern.compile("[A-Z][A-Z0-9]{0,15}");

    private static final Pattern ID = Pattern.compile("([A-Z][A-Z0-9]{0,15})-([0-9]{1,15})");

    public static boolean isPrefix(String s) {
        return s != null && PREFIX.matcher(s).matches();
    }

    /** Parses {@code SEC-20} or {@code SEC-020}; empty for anything else. */
    public static Optional<TaskId> parse(String text) {
        var m = ID.matcher(text);
        if (!m.matches()) {
            return Optional.empty();
        }
        long n = Long.parseLong(m.group(2));
        return n == 0 ? Optional.empty() : Optional.of(new TaskId(m.group(1), n));
    }

    /** Renders the ID, zero-padding the number to {@code width} digits. */
    public static String format(String prefix, long number, int width) {
        String digits = Long.toString(number);
        if (digits.length() >= width) {
            return prefix + '-' + digits;
        }
        return prefix + '-' + "0".repeat(width - digits.length()) + digits;
    }

    @Override
    public String toString() {
        return format(prefix, number, 0);
    }
}
