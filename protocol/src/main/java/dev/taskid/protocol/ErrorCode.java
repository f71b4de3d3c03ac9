package dev.taskid.protocol;

/**
 * Stable error codes. Clients branch on the name, so names never change; the CLI maps each
 * code to a documented exit status.
 */
public enum ErrorCode {
    /** Malformed JSON, a missing field or a field of the wrong type. */
    BAD_REQUEST(false, 2),
    /** The op is not one this daemon knows. */
    UNKNOWN_OP(false, 2),
    /** A request line longer than {@link Protocol#MAX_LINE_BYTES}; the connection is closed. */
    LINE_TOO_LONG(false, 2),
    /** Prefix malformed or not configured; details list the valid ones. */
    INVALID_PREFIX(false, 3),
    /** Count is zero, negative, not an integer or above the configured maximum batch. */
    INVALID_COUNT(false, 3),
    /** A task ID that does not parse as PREFIX-NUMBER. */
    INVALID_ID(false, 3),
    /** The reservation would go past the largest number taskid hands out. */
    COUNTER_OVERFLOW(false, 3),
    /** A set that would lower a counter without force. */
    COUNTER_DECREASE(false, 3),
    /** An idempotency key was reused with different arguments. */
    KEY_REUSED(false, 3),
    /** A wrapped number is still active (seed 001's conflict). */
    NUMBER_CONFLICT(false, 3),
    /** The state lock was not acquired in time; details name the holder. */
    LOCK_TIMEOUT(true, 4),
    /** counters.json is unreadable; it is kept untouched and nothing is allocated. */
    STATE_CORRUPT(false, 5),
    /**
     * The state directory was removed or replaced while a writer used it (its lock file is no
     * longer the one at the path): nothing was written; a daemon that sees it exits.
     */
    STATE_MOVED(false, 5),
    /** config.json is unreadable or holds invalid values. */
    CONFIG_INVALID(false, 5),
    /** The file system refused (read-only, full, permissions); state is unchanged. */
    SYSTEM_ERROR(true, 6),
    /** The peer's uid may not use this daemon; client side: the daemon, its socket or socket directory is not trusted. */
    FORBIDDEN(false, 7),
    /** Too many connections; try again shortly. */
    BUSY(true, 7),
    /** Client and daemon speak different major protocol versions. */
    PROTOCOL_MISMATCH(false, 7),
    /** No daemon answered and the fallback was disabled. */
    DAEMON_UNAVAILABLE(true, 7),
    /**
     * The configured shared backend (PostgreSQL) did not answer within its bounded wait, or
     * lost the connection mid-batch; nothing is answered from local files instead. Retry later;
     * a reservation whose commit outcome is unknown is found again by retrying with its key.
     */
    BACKEND_UNAVAILABLE(true, 7);

    private final boolean retryByDefault;
    private final int exitStatus;

    ErrorCode(boolean retryByDefault, int exitStatus) {
        this.retryByDefault = retryByDefault;
        this.exitStatus = exitStatus;
    }

    /** Whether the same request may succeed if simply sent again later. */
    public boolean retryByDefault() {
        return retryByDefault;
    }

    /** The CLI's exit status for this error. */
    public int exitStatus() {
        return exitStatus;
    }
}
