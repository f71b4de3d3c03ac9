package dev.taskid.state;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Semaphore;

/**
 * The OS advisory lock on {@code .taskid/lock} (fcntl record lock on Linux) that every writer
 * of the state holds: the daemon for its whole life, the fallback for one request. The kernel
 * drops it when the holder dies, so there is no stale-lock breaking: a slow holder is waited
 * for, never robbed.
 *
 * <p>This class is the only code that opens the lock file, and it keeps one descriptor open
 * from construction to {@link #close()}: closing any other descriptor of the file would
 * silently release the process's lock. Use one instance per state directory per process.
 * Threads of one process are serialized by an in-process semaphore first, since the kernel lock is
 * per process.
 */
public final class StateLock implements AutoCloseable {
    private static final long MAX_BACKOFF_MILLIS = 20;

    private final Path path;
    private final FileChannel channel;
    // A semaphore, not a ReentrantLock: the daemon takes the lock on one thread and
    // releases it on its shutdown thread.
    private final Semaphore inProcess = new Semaphore(1);
    private final Clock clock;

    public StateLock(Path path, Clock clock) {
        this.path = path;
        this.clock = clock;
        try {
            // Never through a symbolic link: a planted one would make us create or lock its target.
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot open lock file " + path + ": " + DurableFiles.explain(path, e),
                    Map.of(), e);
        }
    }

    /** A held lock; closing it releases the lock. */
    public final class Held implements AutoCloseable {
        private final FileLock lock;
        private final long waitedMillis;

        private Held(FileLock lock, long waitedMillis) {
            this.lock = lock;
            this.waitedMillis = waitedMillis;
        }

        /** How long acquiring took. */
        public long waitedMillis() {
            return waitedMillis;
        }

        @Override
        public void close() {
            try {
                lock.release();
            } catch (IOException e) {
                // The descriptor stays open; nothing else can be done and the kernel drops
                // the lock at exit at the latest.
            } finally {
                inProcess.release();
            }
        }
    }

    /** Takes the lock if it is free right now. {@code holderNote} is recorded for diagnostics. */
    public Optional<Held> tryAcquire(String holderNote) {
        return tryAcquire(holderNote, 0);
    }

    private Optional<Held> tryAcquire(String holderNote, long waitedMillis) {
        if (!inProcess.tryAcquire()) {
            return Optional.empty();
        }
        try {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                inProcess.release();
                return Optional.empty();
            }
            recordHolder(holderNote);
            return Optional.of(new Held(lock, waitedMillis));
        } catch (OverlappingFileLockException e) {
            inProcess.release();
            throw new IllegalStateException("two StateLock instances for " + path + " in one process", e);
        } catch (IOException e) {
            inProcess.release();
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot lock " + path + ": " + e.getMessage(), Map.of(), e);
        }
    }

    /**
     * Waits up to {@code timeout} for the lock, polling with a short backoff.
     *
     * @throws TaskIdException LOCK_TIMEOUT naming the holder when it stays taken
     */
    public Held acquire(Duration timeout, String holderNote) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        long backoff = 1;
        while (true) {
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            Optional<Held> held = tryAcquire(holderNote, waited);
            if (held.isPresent()) {
                return held.get();
            }
            if (System.nanoTime() - deadline >= 0) {
                throw timeout(timeout);
            }
            pause(backoff);
            backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
        }
    }

    /** The LOCK_TIMEOUT error for this lock, naming the current holder as far as known. */
    public TaskIdException timeout(Duration waited) {
        String holder = holder();
        return new TaskIdException(ErrorCode.LOCK_TIMEOUT,
                "Lock acquisition timeout (" + waited.toMillis() + "ms) on " + path + ": held by "
                        + (holder.isEmpty() ? "another process" : holder)
                        + ". A lock dies with its holder; if this persists, that process is stuck, not gone.",
                Map.of("holder", holder, "timeoutMs", waited.toMillis()), null);
    }

    /** What the current holder wrote about itself, or "" if unknown. */
    public String holder() {
        try {
            ByteBuffer buf = ByteBuffer.allocate(512);
            int n = channel.read(buf, 0);
            return n <= 0 ? "" : new String(buf.array(), 0, n, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        }
    }

    private void recordHolder(String note) throws IOException {
        String text = "pid " + ProcessHandle.current().pid() + " (" + note + ") since " + clock.instant() + "\n";
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
    }

    /** The wait between two lock attempts; an interrupt ends the wait as LOCK_TIMEOUT. */
    public static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TaskIdException(ErrorCode.LOCK_TIMEOUT, "interrupted while waiting for the state lock");
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing releases any lock; nothing to report
        }
    }
}
