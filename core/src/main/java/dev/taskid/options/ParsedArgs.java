package dev.taskid.options;

import java.util.List;
import java.util.Map;

/**
 * A parsed command line: the words that are not options, in order, and each option given,
 * under its declared name ({@code "true"} for a flag; the last value when given twice).
 */
public record ParsedArgs(List<String> positionals, Map<String, String> values) {
    public ParsedArgs {
        positionals = List.copyOf(positionals);
        values = Map.copyOf(values);
    }

    public boolean flag(String name) {
        return values.containsKey(name);
    }

    /** The option's value, or null when it was not given. */
    public String value(String name) {
        return values.get(name);
    }
}
