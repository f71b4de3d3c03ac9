package dev.taskid.cli;

/**
 * The command line was not understood. Thrown by any command; {@link Cli} reports it once, as
 * text or (under {@code --json}) as a BAD_REQUEST error line, with exit status 2.
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

    String synopsis() {
        return synopsis;
    }
}
