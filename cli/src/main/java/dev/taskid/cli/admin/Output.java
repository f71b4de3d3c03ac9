package dev.taskid.cli.admin;

import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.ResponseCodec;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the admin commands share: their streams, JSON or text, errors as the CLI prints them. */
final class Output {
    static final int OK = 0;
    static final int NO = 1;

    final PrintStream out;
    final PrintStream err;
    final boolean json;
    final Json codec = new Json();
    final ResponseCodec responses = new ResponseCodec();

    Output(PrintStream out, PrintStream err, boolean json) {
        this.out = out;
        this.err = err;
        this.json = json;
    }

    /** Prints {@code fields} as one JSON object on stdout. */
    void object(Map<String, ?> fields) {
        out.println(new String(codec.write(g -> {
            g.writeStartObject();
            for (Map.Entry<String, ?> e : fields.entrySet()) {
                Json.writeValue(g, e.getKey(), e.getValue());
            }
            g.writeEndObject();
        }), StandardCharsets.UTF_8));
    }

    /** An error as the CLI reports errors: text or JSON on stderr; returns the exit status. */
    int fail(ErrorCode code, String message, Map<String, Object> details) {
        if (json) {
            err.println(new String(responses.encode(new Response.Failure(null, code, message, code.retryByDefault(), details)),
                    StandardCharsets.UTF_8));
        } else {
            err.println("taskid: " + code + ": " + message);
        }
        return code.exitStatus();
    }

    // ------------------------------------------------------------------ shared parsing and figures

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

    static long[] sorted(java.util.List<Long> values) {
        long[] a = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return a;
    }
}
