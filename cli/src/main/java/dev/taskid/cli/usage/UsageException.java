package dev.taskid.cli.usage;

/**
 * The command line was not understood. Thrown by any command; the CLI (class Cli)
 * reports it once, as text or (under {@code --json}) as a BAD_REQUEST error line, with exit
 * status 2. A package of its own, so that the commands' packages need not import the CLI's.
 */
public final class UsageException extends RuntimeException {
    private final String synopsis;

    public UsageException(String message) {
        this(message, null);
    }

    /** {@code synopsis}: the usage line to show (without "taskid "), or null for the command's own. */
    public UsageException(String message, String synopsis) {
        super(message);
        this.synopsis = synopsis;
    }

    public String synopsis() {
        return synopsis;
    }
}
