package dev.taskid.allocator;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds task IDs ({@code SEC-20}, {@code SEC-019}) in markdown: tables, lists, prose and code
 * spans alike, since an ID mentioned anywhere may already be in use. Only configured prefixes
 * count; lower-case and glued-on prefixes ({@code xSEC-1}, {@code sec-1}) do not.
 */
public final class IdScanner {
    // An underscore before the prefix does not glue it on: _SEC-20_ is markdown emphasis.
    private static final Pattern ID = Pattern.compile("(?<![A-Za-z0-9-])([A-Z][A-Z0-9]{0,15})-([0-9]{1,15})(?![0-9])");

    /** What a scan found: the highest number per prefix and how many IDs were seen. */
    public record Found(Map<String, Long> highest, int count) {}

    private final Set<String> prefixes;

    public IdScanner(Set<String> prefixes) {
        this.prefixes = Set.copyOf(prefixes);
    }

    public Found scan(CharSequence text) {
        Map<String, Long> highest = new TreeMap<>();
        int count = 0;
        Matcher m = ID.matcher(text);
        while (m.find()) {
            String prefix = m.group(1);
            if (!prefixes.contains(prefix)) {
                continue;
            }
            long number = Long.parseLong(m.group(2));
            if (number == 0) {
                continue;
            }
            count++;
            highest.merge(prefix, number, Math::max);
        }
        return new Found(highest, count);
    }
}
