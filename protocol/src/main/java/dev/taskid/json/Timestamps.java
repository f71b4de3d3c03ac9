package dev.taskid.json;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** Times as JavaScript's toISOString writes them, always with milliseconds: {@code 2026-02-19T18:00:00.000Z}. */
public final class Timestamps {
    /**
     * Only for years outside 1970-9999; built on first use, since building it (and
     * java.time.format's own start) cost a CLI call ~5% of its time (docs/BENCHMARKS.md, "CLI start-up, session 5").
     */
    private static final class Slow {
        static final DateTimeFormatter FORMAT =
                DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    }

    private static final long DAYS_0000_TO_1970 = 719_468; // days from 0000-03-01 to 1970-01-01
    private static final long MAX_FAST_SECONDS = 253_402_300_799L; // 9999-12-31T23:59:59Z

    private Timestamps() {}

    /**
     * The time to the millisecond, truncated. Computed with plain arithmetic for years 1970-9999
     * (every answer carries one: DateTimeFormatter allocated ~1 KB per call on the daemon's hot
     * path); other years go through DateTimeFormatter.
     */
    public static String format(Instant instant) {
        if (!plain(instant)) {
            return Slow.FORMAT.format(instant);
        }
        byte[] b = new byte[LENGTH];
        write(instant, b, 0);
        return new String(b, StandardCharsets.US_ASCII);
    }

    /** The length of a time {@link #plain} can write. */
    static final int LENGTH = 24;

    /** Whether {@link #write} can write {@code instant} (years 1970-9999). */
    static boolean plain(Instant instant) {
        long seconds = instant.getEpochSecond();
        return seconds >= 0 && seconds <= MAX_FAST_SECONDS;
    }

    /** {@link #format}'s {@link #LENGTH} ASCII bytes into {@code b} at {@code at}, for a {@link #plain} time. */
    static void write(Instant instant, byte[] b, int at) {
        long seconds = instant.getEpochSecond();
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
        digits(b, at, year, 4);
        b[at + 4] = '-';
        digits(b, at + 5, month, 2);
        b[at + 7] = '-';
        digits(b, at + 8, day, 2);
        b[at + 10] = 'T';
        digits(b, at + 11, secondOfDay / 3600, 2);
        b[at + 13] = ':';
        digits(b, at + 14, secondOfDay / 60 % 60, 2);
        b[at + 16] = ':';
        digits(b, at + 17, secondOfDay % 60, 2);
        b[at + 19] = '.';
        digits(b, at + 20, instant.getNano() / 1_000_000, 3);
        b[at + 23] = 'Z';
    }

    private static void digits(byte[] b, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            b[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
    }

    /**
     * Any ISO-8601 instant (what {@link #format} writes, with or without fractions). What
     * {@link #format} writes for 1970-9999 is read with plain arithmetic (a client reads one in
     * every answer); anything else goes through {@link Instant#parse}.
     */
    public static Instant parse(String text) throws DateTimeParseException {
        Instant fast = parseCanonical(text);
        return fast != null ? fast : Instant.parse(text);
    }

    /** {@code yyyy-MM-ddTHH:mm:ss.SSSZ} with a valid date and time, else null. */
    private static Instant parseCanonical(String t) {
        if (t.length() != 24
                || t.charAt(4) != '-'
                || t.charAt(7) != '-'
                || t.charAt(10) != 'T'
                || t.charAt(13) != ':'
                || t.charAt(16) != ':'
                || t.charAt(19) != '.'
                || t.charAt(23) != 'Z') {
            return null;
        }
        int year = number(t, 0, 4);
        int month = number(t, 5, 2);
        int day = number(t, 8, 2);
        int hour = number(t, 11, 2);
        int minute = number(t, 14, 2);
        int second = number(t, 17, 2);
        int millis = number(t, 20, 3);
        if (year < 1970
                || month < 1
                || month > 12
                || day < 1
                || day > daysInMonth(year, month)
                || hour < 0
                || hour > 23
                || minute < 0
                || minute > 59
                || second < 0
                || second > 59
                || millis < 0) {
            return null; // a leap second, a bad date, a non-digit: Instant.parse decides
        }
        // days-from-civil on a calendar whose years start on March 1st: the inverse of format's
        long y = month <= 2 ? year - 1 : year;
        long era = y / 400;
        long yearOfEra = y - era * 400;
        long dayOfYear = (153L * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
        long days = era * 146_097 + dayOfEra - DAYS_0000_TO_1970;
        return Instant.ofEpochSecond(days * 86_400 + hour * 3600L + minute * 60L + second, millis * 1_000_000L);
    }

    /** The decimal number in {@code t[at, at + width)}, or -1 when a character is not a digit. */
    private static int number(String t, int at, int width) {
        int value = 0;
        for (int i = at; i < at + width; i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static int daysInMonth(int year, int month) {
        if (month == 2) {
            boolean leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            return leap ? 29 : 28;
        }
        return month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31;
    }
}
