package dev.taskid.state;

import dev.taskid.options.Suggest;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * "Did you mean" for configuration keys: case-insensitive, and more lenient than the command
 * line's (a third of the key), since a key is long and its typos many.
 */
public final class Spelling {
    private Spelling() {}

    /** The word of {@code known} nearest to {@code typo}, if it is near enough to be a typo of it. */
    public static Optional<String> nearest(String typo, Collection<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = Suggest.distance(typo.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        // a third of the word, at least 2 edits: "extraPrefix" is extraPrefixes, "foo" is nothing
        return best != null && bestDistance <= Math.max(2, best.length() / 3) ? Optional.of(best) : Optional.empty();
    }
}
