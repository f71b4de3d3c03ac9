package dev.taskid.daemon;

import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.StateDir;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A client process for crash and restart tests: reserves one ID at a time through
 * {@link TaskIds} and prints every acknowledged ID on its own line, flushed at once, as
 * {@code ID NUMBER MODE EPOCH} (epoch "-" in the fallback), so the test knows exactly what
 * was acknowledged even if this process or the daemon is killed. Failures are printed as
 * {@code ! CODE message}.
 *
 * <p>Stops by itself: when its stdin closes (the test is done), after {@code max}
 * reservations, or after a safety deadline.
 *
 * <pre>ReservingClient STATE_DIR PREFIX MAX fallback|no-fallback</pre>
 *
 * With {@code no-fallback}, an absent daemon is waited for (retried every few milliseconds
 * until the deadline), so every acknowledged ID comes from a daemon.
 */
public final class ReservingClient {
    private static final Duration DEADLINE = Duration.ofSeconds(150);
    private static final long RETRY_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private ReservingClient() {}

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        String prefix = args[1];
        long max = Long.parseLong(args[2]);
        boolean fallback = args[3].equals("fallback");
        Thread watcher = new Thread(() -> drain(System.in), "stdin-watch");
        watcher.setDaemon(true);
        watcher.start();
        PrintStream out = System.out;
        long end = System.nanoTime() + DEADLINE.toNanos();
        long done = 0;
        try (TaskIds ids = TaskIds.open(StateDir.of(dir), TaskIds.Options.DEFAULT.withFallback(fallback))) {
            while (done < max && watcher.isAlive() && System.nanoTime() - end < 0) {
                try {
                    Reply reply =
                            ids.call(new Request.Reserve(null, prefix, 1, "crash test", "reserving-client", null));
                    if (reply.response() instanceof Response.Reserved r) {
                        String epoch = ids.daemon()
                                .filter(h -> reply.mode() == dev.taskid.client.Mode.DAEMON)
                                .map(Response.Hello::epoch)
                                .orElse("-");
                        out.println(r.ids().get(0) + " " + r.numbers().get(0) + " "
                                + reply.mode().wireName() + " " + epoch);
                        out.flush();
                        done++;
                    } else if (reply.response() instanceof Response.Failure f) {
                        out.println("! " + f.code() + " " + f.message());
                        out.flush();
                    }
                } catch (TaskIdException e) {
                    if (e.code() != ErrorCode.DAEMON_UNAVAILABLE) {
                        out.println("! " + e.code() + " " + e.getMessage());
                        out.flush();
                    }
                    // A client's retry pause while the daemon restarts, not a test waiting.
                    LockSupport.parkNanos(RETRY_PAUSE_NANOS);
                }
            }
        }
    }

    /** Returns when stdin is closed: the test's signal to stop. */
    private static void drain(InputStream in) {
        byte[] buffer = new byte[64];
        try {
            while (in.read(buffer) >= 0) {
                // nothing to read; we only wait for the end
            }
        } catch (IOException ignored) {
            // a broken stdin means the test is gone: stop as well
        }
    }
}
