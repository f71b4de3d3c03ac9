package dev.taskid.server;

/**
 * Requests read from all connections and not yet answered on the wire. Past {@link #max()}
 * a new request is answered BUSY instead of applied: a bound on the daemon's work in flight
 * that no number of connections can exceed. Touched only on the state loop (one thread).
 */
public final class Backlog {
    private final int max;
    private int inFlight;

    public Backlog(int max) {
        this.max = max;
    }

    public int max() {
        return max;
    }

    public int inFlight() {
        return inFlight;
    }

    boolean full() {
        return inFlight >= max;
    }

    void read() {
        inFlight++;
    }

    void written(int n) {
        inFlight -= n;
    }
}
