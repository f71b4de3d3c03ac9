package dev.taskid.client;

/** Who served a request. */
public enum Mode {
    /** The daemon over its Unix socket. */
    DAEMON,
    /** This process, holding the state lock itself (no daemon answered). */
    FALLBACK;

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
