package dev.taskid.json;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** Times as JavaScript's toISOString writes them, always with milliseconds: {@code 2026-02-19T18:00:00.000Z}. */
public final class Timestamps {
    private static final DateTimeFormatter FORMAT =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Timestamps() {
    }

    public static String format(Instant instant) {
        return FORMAT.format(instant);
    }

    /** Any ISO-8601 instant (what {@link #format} writes, with or without fractions). */
    public static Instant parse(String text) throws DateTimeParseException {
        return Instant.parse(text);
    }
}
