package dev.taskid.server;

import org.slf4j.LoggerFactory;

/**
 * An {@link Error} (OutOfMemoryError, StackOverflowError...) on a thread the daemon cannot
 * serve without. Going on would leave a process that holds the state lock but answers nobody,
 * so every client waits out its lock timeout: halt instead. The kernel drops the lock with
 * the process, the fallback works at once, and systemd restarts the daemon.
 */
public final class Fatal {
    /** The daemon's exit status after a fatal error: SYSTEM_ERROR's (README, Exit status). */
    public static final int EXIT_STATUS = 6;

    private Fatal() {}

    /** Halts (no shutdown hooks: they would wait for the dead thread) after a best-effort log line. */
    public static void halt(String where, Throwable error) {
        try {
            System.err.println("taskid daemon: fatal " + error + " on " + where + "; exiting " + EXIT_STATUS);
            LoggerFactory.getLogger(Fatal.class).error("fatal error on {}; exiting", where, error);
        } catch (Throwable ignored) {
            // Out of memory even for the log line: exit all the same.
        } finally {
            Runtime.getRuntime().halt(EXIT_STATUS);
        }
    }
}
