package dev.taskid.allocator;

import java.util.Set;

/**
 * What the allocator needs to know of the configuration: which prefixes exist, how many IDs one
 * request may take, how a number is written and where a prefix wraps. The state package's
 * {@code Config} implements it, so the allocator depends on no file or state class.
 */
public interface Rules {
    /** The valid prefixes. */
    Set<String> prefixes();

    /** The largest count of one reservation. */
    int maxBatch();

    boolean isValidPrefix(String prefix);

    /** {@code prefix}-{@code number} as handed out (zero-padded where configured). */
    String format(String prefix, long number);

    /** Where {@code prefix}'s numbers wrap round, or 0 when they never do ({@link Wrap}). */
    int wrap(String prefix);
}
