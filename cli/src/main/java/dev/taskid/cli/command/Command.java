package dev.taskid.cli.command;

/**
 * One {@code taskid} command: what it declares about itself ({@link Spec}: name, synopsis,
 * help, options) and what it does. The CLI parses the command line against the spec's options
 * and the global ones before calling {@link #run}.
 */
public interface Command {
    Spec spec();

    /**
     * Runs it; returns the exit status (README "Exit status"). May throw
     * {@link dev.taskid.cli.usage.UsageException} or {@link dev.taskid.protocol.TaskIdException},
     * which the CLI reports.
     */
    int run(Context context);
}
