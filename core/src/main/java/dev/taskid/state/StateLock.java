package dev.taskid.state;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The OS advisory lock on {@code .taskid/lock} (fcntl record lock on Linux) that every writer
 * of the state holds: the daemon for its whole life, the fallback for one request. The kernel
 * drops it when the holder dies, so there is no stale-lock breaking: a slow holder is waited
 * for, never robbed. Waiters block in the kernel (F_SETLKW), which wakes them when the lock is
 * released, instead of polling: a poller can lose every race for the whole timeout.
 *
 * <p>A lock only excludes the writers of the same file. When the state directory is removed
 * or replaced (rm -rf, mv, a restore) a new writer locks a NEW lock file and conflicts with
 * nothing; so after locking, and before each write ({@link #verify()}), the file this lock
 * holds must still be the one at the path (same device and inode, same directory), or
 * STATE_MOVED: fail closed.
 *
 * <p>This class is the only code that opens the lock file, and it keeps one descriptor open
 * from construction to {@link #close()}: closing any other descriptor of the file would
 * silently release the process's lock. Use one instance per state directory per process.
 * Threads of one process are serialized by an in-process semaphore first, since the kernel lock is
 * per process.
 */
public final class StateLock implements AutoCloseable {
    private static final int WAITING = 0;
    private static final int ACQUIRED = 1;
    private static final int ABANDONED = 2;
    private static final int TIMED_OUT = 3;

    private final Path path;
    private final Path dir;
    // Replaced only when a blocked wait was ended by closing it, while this process holds no lock.
    private volatile FileChannel channel;
    private volatile Object fileKey;
    private volatile Object dirKey;
    // A semaphore, not a ReentrantLock: the daemon takes the lock on one thread and
    // releases it on its shutdown thread.
    private final Semaphore inProcess = new Semaphore(1, true);
    private final Clock clock;

    public StateLock(Path path, Clock clock) {
        this.path = path.toAbsolutePath();
        this.dir = this.path.getParent();
        this.clock = clock;
        open();
    }

    /**
     * Opens the lock file and records which file it is. The path is looked at before and
     * after the open: when both agree, the descriptor is that file (a file created by this
     * open is looked at again by a second open).
     */
    private void open() {
        for (int attempt = 0; ; attempt++) {
            try {
                Object before = key(path);
                Object dirBefore = key(dir);
                FileChannel opened = FileChannel.open(
                        path,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.READ,
                        StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS);
                Object after = key(path);
                if (before != null && before.equals(after) && dirBefore != null && dirBefore.equals(key(dir))) {
                    channel = opened;
                    fileKey = after;
                    dirKey = dirBefore;
                    return;
                }
                opened.close();
                if (attempt >= 5) {
                    throw moved("the lock file " + path + " keeps being replaced while it is opened");
                }
            } catch (IOException e) {
                throw new TaskIdException(
                        ErrorCode.SYSTEM_ERROR,
                        "cannot open lock file " + path + ": " + DurableFiles.explain(path, e),
                        Map.of(),
                        e);
            }
        }
    }

    /** The file's identity (device and inode on Unix), or null when it does not exist. */
    private static Object key(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * Fails with STATE_MOVED unless the lock file this process holds is still the one at its
     * path, in the same directory: otherwise another writer may be locking a new file there,
     * and neither would exclude the other. Two stats: cheap enough before every write.
     */
    public void verify() {
        Object now;
        Object dirNow;
        try {
            now = key(path);
            dirNow = key(dir);
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot look at " + path + ": " + e.getMessage(), Map.of(), e);
        }
        if (!fileKey.equals(now) || !dirKey.equals(dirNow)) {
            throw moved("the state directory " + dir + " was "
                    + (dirNow == null ? "removed" : now == null ? "emptied or replaced" : "replaced")
                    + " while this process used it (its lock file is "
                    + (now == null ? "gone" : "another file now") + ")");
        }
    }

    private TaskIdException moved(String what) {
        return new TaskIdException(
                ErrorCode.STATE_MOVED,
                what + ". Nothing was written. Another writer may be using a new "
                        + "state there, so taskid stops rather than risk handing out an ID twice: put the state directory back "
                        + "(or check the IDs with taskid check), then restart the daemon.",
                Map.of("lock", path.toString()),
                null);
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
        if (!inProcess.tryAcquire()) {
            return Optional.empty();
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            inProcess.release();
            throw new IllegalStateException("two StateLock instances for " + path + " in one process", e);
        } catch (IOException e) {
            inProcess.release();
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot lock " + path + ": " + e.getMessage(), Map.of(), e);
        }
        if (lock == null) {
            inProcess.release();
            return Optional.empty();
        }
        try {
            return Optional.of(held(lock, holderNote, 0));
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot write " + path + ": " + e.getMessage(), Map.of(), e);
        }
    }

    /** Checks that the locked file is the one at the path, then records the holder; releases on failure. */
    private Held held(FileLock lock, String holderNote, long waitedMillis) throws IOException {
        Held held = new Held(lock, waitedMillis);
        try {
            verify();
            recordHolder(holderNote);
            return held;
        } catch (IOException | RuntimeException e) {
            held.close();
            throw e;
        }
    }

    /**
     * Waits up to {@code timeout} for the lock.
     *
     * @throws TaskIdException LOCK_TIMEOUT naming the holder when it stays taken
     */
    public Held acquire(Duration timeout, String holderNote) {
        return acquire(timeout, holderNote, timeout, () -> false).orElseThrow();
    }

    /**
     * Waits up to {@code timeout} for the lock, blocked in the kernel's queue of waiters;
     * every {@code checkEvery} asks {@code abandon} whether waiting is still wanted (the
     * fallback: has a daemon come up?) and returns empty when it says no. A blocked wait is
     * ended by closing the descriptor from a watcher thread; that releases nothing, since
     * this process holds no lock on the file while it waits, and the file is opened again.
     *
     * @throws TaskIdException LOCK_TIMEOUT naming the holder when it stays taken
     */
    public Optional<Held> acquire(Duration timeout, String holderNote, Duration checkEvery, BooleanSupplier abandon) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        try {
            if (!inProcess.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw timeout(timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TaskIdException(ErrorCode.LOCK_TIMEOUT, "interrupted while waiting for the state lock");
        }
        boolean handedOver = false;
        try {
            FileLock free = channel.tryLock();
            if (free != null) {
                handedOver = true;
                return Optional.of(held(free, holderNote, millisSince(start)));
            }
            if (System.nanoTime() - deadline >= 0) {
                throw timeout(timeout);
            }
            AtomicInteger state = new AtomicInteger(WAITING);
            FileChannel waitingOn = channel;
            CountDownLatch done = new CountDownLatch(1);
            Thread watcher = new Thread(
                    () -> watch(waitingOn, state, done, deadline, checkEvery.toNanos(), abandon), "taskid-lock-wait");
            watcher.setDaemon(true);
            watcher.start();
            FileLock lock;
            try {
                lock = waitingOn.lock();
            } catch (IOException e) { // AsynchronousCloseException: the watcher ended the wait; or an interrupt
                state.compareAndSet(WAITING, ABANDONED);
                done.countDown();
                reopen();
                if (Thread.currentThread().isInterrupted()
                        || e instanceof java.nio.channels.ClosedByInterruptException) {
                    Thread.currentThread().interrupt();
                    throw new TaskIdException(ErrorCode.LOCK_TIMEOUT, "interrupted while waiting for the state lock");
                }
                if (state.get() == TIMED_OUT) {
                    throw timeout(timeout);
                }
                if (state.get() == ABANDONED) {
                    return Optional.empty();
                }
                throw e;
            }
            done.countDown();
            if (!state.compareAndSet(WAITING, ACQUIRED)) {
                // The watcher closed the descriptor just as the kernel granted the lock: closing
                // released it. Behave as if the wait had ended a moment earlier.
                reopen();
                if (state.get() == TIMED_OUT) {
                    throw timeout(timeout);
                }
                return Optional.empty();
            }
            handedOver = true;
            return Optional.of(held(lock, holderNote, millisSince(start)));
        } catch (OverlappingFileLockException e) {
            throw new IllegalStateException("two StateLock instances for " + path + " in one process", e);
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot lock " + path + ": " + e.getMessage(), Map.of(), e);
        } finally {
            if (!handedOver) {
                inProcess.release();
            }
        }
    }

    /** The watcher of one blocked wait: ends it at the deadline or when {@code abandon} says so. */
    private static void watch(
            FileChannel waitingOn,
            AtomicInteger state,
            CountDownLatch done,
            long deadline,
            long checkEveryNanos,
            BooleanSupplier abandon) {
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (done.await(Math.max(0, Math.min(left, checkEveryNanos)), TimeUnit.NANOSECONDS)) {
                    return;
                }
                int reason =
                        System.nanoTime() - deadline >= 0 ? TIMED_OUT : abandon.getAsBoolean() ? ABANDONED : WAITING;
                if (reason != WAITING && state.compareAndSet(WAITING, reason)) {
                    waitingOn.close(); // wakes the blocked lock() with AsynchronousCloseException
                    return;
                }
                if (state.get() != WAITING) {
                    return;
                }
            }
        } catch (InterruptedException | IOException e) {
            // a daemon thread of a wait that is over either way
        }
    }

    private void reopen() {
        try {
            channel.close();
        } catch (IOException e) {
            // already closed by the watcher
        }
        open();
    }

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** The LOCK_TIMEOUT error for this lock, naming the current holder as far as known. */
    public TaskIdException timeout(Duration waited) {
        String holder = holder();
        return new TaskIdException(
                ErrorCode.LOCK_TIMEOUT,
                "Lock acquisition timeout (" + waited.toMillis() + "ms) on " + path + ": held by "
                        + (holder.isEmpty() ? "another process" : holder)
                        + ". A lock dies with its holder; if this persists, that process is stuck, not gone.",
                Map.of("holder", holder, "timeoutMs", waited.toMillis()),
                null);
    }

    /**
     * Who holds the lock now, as far as known, or "" when nobody is known to. The kernel
     * knows the holder's pid (/proc/locks on Linux); the note in the file only says who
     * wrote last, which is the holder only when the pids agree.
     */
    public String holder() {
        String note = note();
        OptionalLong pid;
        try {
            pid = ProcLocks.holder(path);
        } catch (UnsupportedOperationException e) {
            return note.isEmpty() ? "" : "unknown (the lock file says: " + note + ", which may be an earlier holder)";
        }
        if (pid.isEmpty()) {
            return note.isEmpty() ? "" : "unknown (no holder in /proc/locks; the lock file says: " + note + ")";
        }
        String notePid = "pid " + pid.getAsLong() + " ";
        return note.startsWith(notePid)
                ? note
                : "pid " + pid.getAsLong() + ProcLocks.command(pid.getAsLong())
                        + (note.isEmpty()
                                ? ""
                                : " (the lock file's note, \"" + note + "\", is from an earlier holder)");
    }

    /**
     * The holder's pid when the kernel lists it and its own note says it is a {@code role}
     * ("daemon"): a note alone may be an earlier holder's.
     */
    public OptionalLong holderAs(String role) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                        "^pid ([0-9]+) \\(" + java.util.regex.Pattern.quote(role) + "\\) ")
                .matcher(holder());
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }

    /** What the last holder wrote about itself, or "" if nothing. */
    private String note() {
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

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing releases any lock; nothing to report
        }
    }
}
