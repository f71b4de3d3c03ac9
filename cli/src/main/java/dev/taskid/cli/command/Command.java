package dev.taskid.cli.command;

import dev.taskid.options.Option;
import java.util.List;

/**
 * One {@code taskid} command: what help, completion and the manual page say about it, the
 * options it accepts besides the global ones, and what it does. The CLI parses the command line
 * against {@link #options()} before calling {@link #run}.
 */
public interface Command {
    /** The word that selects it: {@code reserve}. */
    String name();

    /** Its usage line without "taskid ": {@code reserve PREFIX [COUNT] [--key KEY]...}. */
    String synopsis();

    /** What it does; lines of at most ~110 characters; the first sentence is its summary. */
    String help();

    /** Its own options, in the order help lists them. */
    default List<Option> options() {
        return List.of();
    }

    /**
     * Runs it; returns the exit status (README "Exit status"). May throw
     * {@link dev.taskid.cli.usage.UsageException} or {@link dev.taskid.protocol.TaskIdException},
     * which the CLI reports.
     */
    int run(Context context);
}
