package dev.taskid.json;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** Times as JavaScript's toISOString writes them, always with milliseconds: {@code 2026-02-19T18:00:00.000Z}. */
public final class Timestamps {
    private static final DateTimeFormatter FORMAT =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final long DAYS_0000_TO_1970 = 719_468; // days from 0000-03-01 to 1970-01-01
    private static final long MAX_FAST_SECONDS = 253_402_300_799L; // 9999-12-31T23:59:59Z

    private Timestamps() {}

    /**
     * The time to the millisecond, truncated. Computed with plain arithmetic for years 1970-9999
     * (every answer carries one: DateTimeFormatter allocated ~1 KB per call on the daemon's hot
     * path); other years go through DateTimeFormatter.
     */
    public static String format(Instant instant) {
        long seconds = instant.getEpochSecond();
        if (seconds < 0 || seconds > MAX_FAST_SECONDS) {
            return FORMAT.format(instant);
        }
        long days = seconds / 86_400;
        int secondOfDay = (int) (seconds % 86_400);
        // civil-from-days on a calendar whose years start on March 1st (leap day last)
        long z = days + DAYS_0000_TO_1970;
        long era = z / 146_097;
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long shiftedMonth = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * shiftedMonth + 2) / 5 + 1);
        int month = (int) (shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9);
        int year = (int) (yearOfEra + era * 400 + (month <= 2 ? 1 : 0));
        char[] c = new char[24];
        digits(c, 0, year, 4);
        c[4] = '-';
        digits(c, 5, month, 2);
        c[7] = '-';
        digits(c, 8, day, 2);
        c[10] = 'T';
        digits(c, 11, secondOfDay / 3600, 2);
        c[13] = ':';
        digits(c, 14, secondOfDay / 60 % 60, 2);
        c[16] = ':';
        digits(c, 17, secondOfDay % 60, 2);
        c[19] = '.';
        digits(c, 20, instant.getNano() / 1_000_000, 3);
        c[23] = 'Z';
        return new String(c);
    }

    private static void digits(char[] c, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            c[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }

    /** Any ISO-8601 instant (what {@link #format} writes, with or without fractions). */
    public static Instant parse(String text) throws DateTimeParseException {
        return Instant.parse(text);
    }
}
