package dev.taskid.cli.admin;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the admin commands share: {@code --since} and percentiles. */
final class Figures {
    private Figures() {}

    private static final Pattern AGO = Pattern.compile("([0-9]{1,9})([smhd])");

    /**
     * {@code --since}: an instant ({@code 2026-02-19T18:00:00Z}), a day ({@code 2026-02-19},
     * UTC) or an age ({@code 90s}, {@code 15m}, {@code 2h}, {@code 7d}).
     */
    static Instant since(String text, Instant now) {
        Matcher m = AGO.matcher(text);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            return now.minus(d);
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            try {
                return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException e2) {
                throw new IllegalArgumentException("--since takes a time (2026-02-19T18:00:00Z), a day (2026-02-19) "
                        + "or an age (90s, 15m, 2h, 7d), got \"" + text + "\"");
            }
        }
    }

    /** The p-th percentile (0..1) of {@code values}, the way the daemon computes its own. */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * p))];
    }

    static long[] sorted(List<Long> values) {
        long[] a = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return a;
    }
}
