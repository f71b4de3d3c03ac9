package dev.taskid.options;

import java.util.ArrayList;
import java.util.List;

/**
 * One command-line option: its name ({@code --dir}), other spellings ({@code -h}), the name of
 * its value in help ({@code PATH}; null for a flag that takes none) and its help line. The
 * CLI's commands and the daemon declare theirs in this one model, so the parser, the help, the
 * completion scripts and the manual page all read the same declaration.
 */
public record Option(String name, List<String> aliases, String valueName, String help) {
    public Option {
        if (!name.startsWith("-")) {
            throw new IllegalArgumentException("an option starts with -: " + name);
        }
        aliases = List.copyOf(aliases);
    }

    /** An option that takes no value: present or not. */
    public static Option flag(String name, String help) {
        return new Option(name, List.of(), null, help);
    }

    /** An option that takes a value: {@code --name VALUE} or {@code --name=VALUE}. */
    public static Option valued(String name, String valueName, String help) {
        return new Option(name, List.of(), valueName, help);
    }

    /** This option, also answering to {@code alias} (which help does not list). */
    public Option withAlias(String alias) {
        List<String> all = new ArrayList<>(aliases);
        all.add(alias);
        return new Option(name, all, valueName, help);
    }

    public boolean takesValue() {
        return valueName != null;
    }

    /** How help shows it: {@code --dir PATH}, {@code --json}. */
    public String usage() {
        return takesValue() ? name + " " + valueName : name;
    }

    boolean answersTo(String word) {
        return name.equals(word) || aliases.contains(word);
    }
}
