package dev.taskid.protocol;

/** Constants of protocol v1. */
public final class Protocol {
    /** Major version: a daemon and a client with different values refuse to talk. */
    public static final int VERSION = 1;
    /** Longest request or response line, newline excluded. */
    public static final int MAX_LINE_BYTES = 64 * 1024;
    /**
     * Largest number ever handed out: 10^15 - 1, so every number stays exact in languages
     * whose JSON numbers are doubles (JavaScript).
     */
    public static final long MAX_NUMBER = 999_999_999_999_999L;

    private Protocol() {}
}
