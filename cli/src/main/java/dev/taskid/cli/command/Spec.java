package dev.taskid.cli.command;

import dev.taskid.options.Option;
import java.util.List;

/**
 * What a command declares about itself: the word that selects it ({@code reserve}), its usage
 * line without "taskid ", its help (lines of at most ~110 characters; the first sentence is its
 * summary) and its own options besides the global ones, in the order help lists them. Help,
 * completion, the manual page and the parser all read this one value.
 */
public record Spec(String name, String synopsis, String help, List<Option> options) {
    public Spec {
        options = List.copyOf(options);
    }

    /** A command with no options of its own. */
    public Spec(String name, String synopsis, String help) {
        this(name, synopsis, help, List.of());
    }
}
