package dev.taskid.state;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state lock within one process (across processes: the CLI process tests). */
class StateLockTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
    private static final String PID = "pid " + ProcessHandle.current().pid();

    @TempDir
    Path tmp;

    private StateLock lock;
    private ExecutorService other;

    @BeforeEach
    void open() {
        lock = new StateLock(tmp.resolve("lock"), CLOCK);
        other = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void close() throws Exception {
        other.shutdownNow();
        assertTrue(other.awaitTermination(30, TimeUnit.SECONDS));
        lock.close();
    }

    @Test
    void aSecondThreadWaitsAndGetsTheLockAfterRelease() throws Exception {
        StateLock.Held first = lock.acquire(Duration.ofSeconds(5), "first");
        Future<StateLock.Held> second = other.submit(() -> lock.acquire(Duration.ofSeconds(60), "second"));
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(30)).until(() -> !second.isDone());
        first.close();
        StateLock.Held got = second.get(60, TimeUnit.SECONDS);
        assertTrue(got.waitedMillis() > 0, "it waited: " + got.waitedMillis());
        assertTrue(lock.holder().startsWith(PID + " (second) since "), lock.holder());
        got.close();
        lock.tryAcquire("again").orElseThrow().close();
    }

    @Test
    void tryAcquireDoesNotWait() throws Exception {
        StateLock.Held held = lock.tryAcquire("one").orElseThrow();
        assertEquals(
                Optional.empty(), other.submit(() -> lock.tryAcquire("two")).get(30, TimeUnit.SECONDS));
        assertEquals(Optional.empty(), lock.tryAcquire("same thread"), "not reentrant: one holder at a time");
        held.close();
        assertTrue(other.submit(() -> lock.tryAcquire("two"))
                .get(30, TimeUnit.SECONDS)
                .isPresent());
    }

    @Test
    void timeoutIsLockTimeoutNamingTheHolder() throws Exception {
        StateLock.Held held = lock.acquire(Duration.ofSeconds(5), "reserve SEC 3");
        Future<?> waiter = other.submit(() -> lock.acquire(Duration.ofMillis(200), "waiter"));
        Throwable thrown = assertThrows(
                        java.util.concurrent.ExecutionException.class, () -> waiter.get(60, TimeUnit.SECONDS))
                .getCause();
        TaskIdException e = (TaskIdException) thrown;
        assertEquals(ErrorCode.LOCK_TIMEOUT, e.code());
        assertTrue(e.getMessage().contains("(200ms)"), e.getMessage());
        assertTrue(
                e.getMessage().contains("held by " + PID + " (reserve SEC 3) since 2026-11-25T10:00:00Z"),
                e.getMessage());
        assertEquals(
                PID + " (reserve SEC 3) since 2026-11-25T10:00:00Z", e.details().get("holder"));
        assertEquals(200L, e.details().get("timeoutMs"));
        assertTrue(e.code().retryByDefault());
        held.close();
    }

    @Test
    void zeroTimeoutTriesOnce() {
        StateLock.Held held = lock.tryAcquire("holder").orElseThrow();
        assertEquals(
                ErrorCode.LOCK_TIMEOUT,
                assertThrows(TaskIdException.class, () -> lock.acquire(Duration.ZERO, "x"))
                        .code());
        held.close();
        lock.acquire(Duration.ZERO, "x").close();
    }

    @Test
    void holderInfoIsReadableAndReplacedByEachHolder() {
        assertEquals("", lock.holder(), "never held: unknown");
        lock.acquire(Duration.ofSeconds(5), "a much longer note than the next one")
                .close();
        try (StateLock.Held held = lock.acquire(Duration.ofSeconds(5), "short")) {
            assertEquals(PID + " (short) since 2026-11-25T10:00:00Z", lock.holder(), "no tail of the longer note left");
        }
    }

    @Test
    void anInterruptEndsTheWait() throws Exception {
        StateLock.Held held = lock.tryAcquire("holder").orElseThrow();
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        Future<Boolean> waiter = other.submit(() -> {
            started.countDown();
            try {
                lock.acquire(Duration.ofSeconds(60), "waiter");
                return false;
            } catch (TaskIdException e) {
                return e.code() == ErrorCode.LOCK_TIMEOUT
                        && Thread.currentThread().isInterrupted();
            }
        });
        assertTrue(started.await(30, TimeUnit.SECONDS));
        other.shutdownNow(); // interrupts the waiter, before or during its wait
        assertTrue(waiter.get(30, TimeUnit.SECONDS), "LOCK_TIMEOUT and the interrupt flag kept");
        held.close();
    }

    @Test
    void aSecondInstanceInTheSameProcessIsAProgrammingError() {
        StateLock.Held held = lock.tryAcquire("holder").orElseThrow();
        StateLock second = new StateLock(tmp.resolve("lock"), CLOCK);
        try {
            assertThrows(IllegalStateException.class, () -> second.tryAcquire("second"));
        } finally {
            held.close();
        }
        // closing the second instance's descriptor would drop the first one's kernel lock:
        // the reason for "one instance per directory per process"; nothing more to assert here.
        second.close();
        assertFalse(lock.tryAcquire("after").isEmpty());
    }
}
