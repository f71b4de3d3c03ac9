package dev.taskid.allocator;

/**
 * Arithmetic of a wrapped sequence (seed 001's "modulo 1000"). The counter of a wrapped
 * prefix is a <em>position</em> that only grows, exactly like an unwrapped counter: position p
 * (1, 2, 3, ...) hands out number {@code p mod wrap}. So with wrap 1000 the numbers run
 * 1..999, 0, 1, ..., and 0 is a valid number, as in seed 001 (its range is 0-999). Positions
 * never go backwards, so {@code previous}/{@code counter} stay monotonic and idempotency keys,
 * which remember positions, replay the very numbers they handed out.
 *
 * <p>{@code wrap == 0} means "no wrap": the number is the position itself.
 */
public final class Wrap {
    /** Largest allowed wrap: bounds the active set (saved with every commit, listed in one response). */
    public static final int MAX_WRAP = 10_000;

    private Wrap() {}

    /**
     * Marks active every number handed out at positions {@code from+1..to} that is not active
     * already: the history of numbers the active set does not know (handed out before wrap was
     * enabled, or skipped by a raised counter: an import, {@code set}, {@code init}). Which of
     * them are still in use nobody knows, so all are, until archived; since the last {@code wrap}
     * positions cover every number, at most {@code wrap} are marked. Returns how many.
     */
    public static int carryOver(Ledger ledger, String prefix, long from, long to, int wrap) {
        int marked = 0;
        for (long position = Math.max(from + 1, to - wrap + 1); position <= to; position++) {
            long number = number(position, wrap);
            if (!ledger.active(prefix).containsKey(number)) {
                ledger.activate(prefix, number, position);
                marked++;
            }
        }
        if (to > 0 && !ledger.activeNumbers().containsKey(prefix)) {
            ledger.track(prefix);
        }
        return marked;
    }

    /** The number handed out at {@code position}. */
    public static long number(long position, int wrap) {
        return wrap > 0 ? position % wrap : position;
    }

    /** The number the next reservation starts with, when the counter is at {@code counter}. */
    public static long next(long counter, int wrap) {
        return number(counter + 1, wrap);
    }

    /** Digits of the largest number of the cycle ({@code 1000} → 3: {@code 000}..{@code 999}). */
    public static int digits(int wrap) {
        return wrap > 1 ? Long.toString(wrap - 1L).length() : 1;
    }

    /**
     * The counter that makes {@code next} the next number handed out, in the first cycle:
     * seed 001's {@code next_project_number}. Without wrap, {@code next - 1} (at least 0). With
     * wrap, {@code (next - 1) mod wrap}, so {@code next_project_number: 0} means "999 was the
     * last", as in the seed. A caller raises the counter to this value and never lowers it.
     */
    public static long floorForNext(long next, int wrap) {
        if (wrap <= 0) {
            return Math.max(0, next - 1);
        }
        return Math.floorMod(next - 1, (long) wrap);
    }
}
