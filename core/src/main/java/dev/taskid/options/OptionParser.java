package dev.taskid.options;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Splits command-line words into positionals and declared options, for the CLI and the daemon
 * alike. Hand-written rather than picocli: the CLI's start-up time is its latency (picocli cost
 * it 82-104% more CPU: docs/BENCHMARKS.md, "CLI libraries"), and this is all it needs.
 */
public final class OptionParser {
    private OptionParser() {}

    /**
     * Parses {@code words} against {@code options}: a flag takes no value, a valued option the
     * next word or {@code --name=value}. Anything after {@code --} is positional, and so is a
     * negative number ({@code -3}), so that commands can say what is wrong with it.
     *
     * @throws OptionException for an undeclared option (with the nearest declared one), a missing value or a
     *     flag given one
     */
    public static ParsedArgs parse(List<String> words, Collection<Option> options) {
        List<String> positionals = new ArrayList<>();
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (w.equals("--")) {
                positionals.addAll(words.subList(i + 1, words.size()));
                break;
            }
            if (!w.startsWith("-") || w.length() == 1 || isNumber(w)) {
                positionals.add(w);
                continue;
            }
            int eq = w.indexOf('=');
            String name = eq > 0 ? w.substring(0, eq) : w;
            String value = eq > 0 ? w.substring(eq + 1) : null;
            Optional<Option> option = find(name, options);
            if (option.isEmpty()) {
                throw new OptionException("unknown option " + name + Suggest.hint(name, names(options)));
            }
            if (!option.get().takesValue() && value != null) {
                throw new OptionException(name + " takes no value");
            }
            if (!option.get().takesValue()) {
                values.put(option.get().name(), "true");
            } else if (value != null) {
                values.put(option.get().name(), value);
            } else if (i + 1 < words.size()) {
                values.put(option.get().name(), words.get(++i));
            } else {
                throw new OptionException(name + " needs a value");
            }
        }
        return new ParsedArgs(positionals, values);
    }

    // Loops, not streams: the CLI parses before every call, and a lambda's first linkage costs
    // more than the whole parse on JDK 17.
    private static Optional<Option> find(String word, Collection<Option> options) {
        for (Option o : options) {
            if (o.answersTo(word)) {
                return Optional.of(o);
            }
        }
        return Optional.empty();
    }

    private static Set<String> names(Collection<Option> options) {
        Set<String> names = new TreeSet<>();
        for (Option o : options) {
            names.add(o.name());
            names.addAll(o.aliases());
        }
        return names;
    }

    private static boolean isNumber(String w) {
        for (int i = 1; i < w.length(); i++) {
            if (!Character.isDigit(w.charAt(i))) {
                return false;
            }
        }
        return true;
    }
}
