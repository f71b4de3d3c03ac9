package dev.taskid.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line words split into positionals and {@code --options}. Hand-written rather than
 * picocli: the CLI's start-up time is its latency, and this is all it needs.
 */
final class Args {
    private final List<String> positionals = new ArrayList<>();
    private final Map<String, String> options = new LinkedHashMap<>();

    /** A word was not understood; the message says which. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    /**
     * Parses {@code words}. {@code flags} take no value; {@code valued} take the next word
     * (or {@code --name=value}). Anything after {@code --} is positional.
     */
    static Args parse(List<String> words, Set<String> flags, Set<String> valued) throws UsageException {
        Args a = new Args();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (w.equals("--")) {
                a.positionals.addAll(words.subList(i + 1, words.size()));
                break;
            }
            if (w.startsWith("-") && w.length() > 1 && !isNumber(w)) {
                String name = w;
                String value = null;
                int eq = w.indexOf('=');
                if (eq > 0) {
                    name = w.substring(0, eq);
                    value = w.substring(eq + 1);
                }
                if (flags.contains(name) && value == null) {
                    a.options.put(name, "true");
                } else if (valued.contains(name)) {
                    if (value == null) {
                        if (i + 1 >= words.size()) {
                            throw new UsageException(name + " needs a value");
                        }
                        value = words.get(++i);
                    }
                    a.options.put(name, value);
                } else {
                    throw new UsageException("unknown option " + name);
                }
            } else {
                a.positionals.add(w);
            }
        }
        return a;
    }

    private static boolean isNumber(String w) {
        return w.length() > 1 && w.substring(1).chars().allMatch(Character::isDigit);
    }

    List<String> positionals() {
        return positionals;
    }

    boolean flag(String name) {
        return options.containsKey(name);
    }

    String option(String name) {
        return options.get(name);
    }
}
