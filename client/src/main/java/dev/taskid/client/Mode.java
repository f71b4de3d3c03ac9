package dev.taskid.client;

/** Who served a request. */
public enum Mode {
    /** The daemon over its Unix socket. */
    DAEMON,
    /** This process, holding the state lock itself (no daemon answered). */
    FALLBACK,
    /** This process, in a transaction of its own on the shared backend (no daemon answered). */
    BACKEND;

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
