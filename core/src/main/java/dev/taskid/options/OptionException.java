package dev.taskid.options;

/** The command line names an option that is not declared, or leaves out an option's value. */
public final class OptionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OptionException(String message) {
        super(message);
    }
}
