package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.testing.Processes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state lock is an OS lock that dies with its holder and is never broken by age: a holder
 * killed with -9 frees it at once; a holder that is alive but stuck makes callers time out
 * (LOCK_TIMEOUT naming it), never hand out what the holder may still hand out. The seeds break
 * locks older than 5 s (000) or 60 s (001), so a merely slow holder there leads to duplicates.
 */
class LockHolderTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private Process holder;

    @AfterEach
    void endHolder() throws Exception {
        if (holder != null && holder.isAlive()) {
            Processes.run(List.of("kill", "-CONT", String.valueOf(holder.pid())), tmp, Map.of(), WAIT);
            holder.destroyForcibly();
            holder.waitFor(60, TimeUnit.SECONDS);
        }
    }

    /** Starts a {@link LockHolder} JVM on the repository's state and waits until it holds the lock. */
    private BufferedReader startHolder(CliRepo repo) throws Exception {
        holder = new ProcessBuilder(LockHolder.command(repo.state()))
                .directory(repo.root().toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("locked", readLine(out));
        return out;
    }

    private static String readLine(BufferedReader out) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
                    try {
                        return out.readLine();
                    } catch (IOException e) {
                        return "<" + e + ">";
                    }
                })
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private void signal(String signal) {
        Processes.Result r =
                Processes.run(List.of("kill", "-" + signal, String.valueOf(holder.pid())), tmp, Map.of(), WAIT);
        assertEquals(0, r.status(), r.toString());
    }

    @Test
    void aHolderKilledWithMinus9FreesTheLockAtOnce() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        assertEquals(0, repo.taskid("reserve", "SEC", "2").status());
        startHolder(repo);
        long pid = holder.pid();

        ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL: no shutdown hook, no unlock call
        assertTrue(holder.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS).exitValue() != 0);
        assertTrue(
                Files.readString(repo.state().resolve("lock")).contains("pid " + pid),
                "the dead holder's note is still in the lock file: nothing cleaned up after it");

        Processes.Result next = repo.taskid("--lock-timeout", "30000", "reserve", "SEC", "--verbose");
        assertEquals(0, next.status(), next.toString());
        Map<String, Object> v = CliRepo.object(next.stdout());
        assertEquals(List.of("SEC-3"), v.get("ids"), "the killed holder handed out nothing");
        long waited = (Long) v.get("lockWaitMs");
        assertTrue(waited < 1000, "the lock died with its holder: waited " + waited + " ms of a 30000 ms timeout");
    }

    @Test
    void aStuckHolderIsWaitedForNeverRobbed() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        assertEquals(0, repo.taskid("reserve", "SEC", "2").status());
        BufferedReader out = startHolder(repo); // it has read the counter: SEC at 2
        signal("STOP");
        byte[] before = Files.readAllBytes(repo.counters());
        byte[] auditBefore = Files.readAllBytes(repo.state().resolve("audit.log"));

        // Older than the seeds' 5 s stale-lock age by the time the second caller gives up.
        Processes.Result first = repo.taskid("--json", "--lock-timeout", "3000", "reserve", "SEC");
        Processes.Result second = repo.taskid("--lock-timeout", "3000", "reserve", "SEC", "2", "--format", "seed001");
        for (Processes.Result r : List.of(first, second)) {
            assertEquals(ErrorCode.LOCK_TIMEOUT.exitStatus(), r.status(), r.toString());
        }
        assertEquals("", first.stdout(), first.toString());
        Map<String, Object> seed001 = CliRepo.object(second.stdout());
        assertEquals("error", seed001.get("status"), "seed 001's callers read the error from stdout: " + second);
        assertEquals(false, seed001.get("lock_acquired"));
        assertEquals(true, seed001.get("retry_suggested"));
        assertEquals(List.of(), seed001.get("allocated_numbers"));
        Map<String, Object> error = CliRepo.error(first);
        assertEquals("LOCK_TIMEOUT", error.get("code"));
        @SuppressWarnings("unchecked")
        Map<String, Object> details = (Map<String, Object>) error.get("details");
        assertTrue(((String) details.get("holder")).startsWith("pid " + holder.pid() + " "), details.toString());
        assertTrue(
                second.stderr().contains("LOCK_TIMEOUT") && second.stderr().contains("pid " + holder.pid()),
                "the message names the holder: " + second);
        assertArrayEquals(before, Files.readAllBytes(repo.counters()), "nobody wrote behind the holder's back");
        assertArrayEquals(
                auditBefore,
                Files.readAllBytes(repo.state().resolve("audit.log")),
                "the waiters' warm-up run (before the lock) writes nothing");

        signal("CONT");
        try (OutputStream in = holder.getOutputStream()) {
            in.write("reserve SEC 2\n".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals("SEC-3,SEC-4", readLine(out), "the holder hands out what it read under the lock");
        assertEquals(0, holder.waitFor(60, TimeUnit.SECONDS) ? holder.exitValue() : -1);

        Processes.Result after = repo.taskid("reserve", "SEC", "2");
        assertEquals(0, after.status(), after.toString());
        List<?> ids = (List<?>) CliRepo.object(after.stdout()).get("ids");
        assertEquals(List.of("SEC-5", "SEC-6"), ids);
        Set<Object> all = new HashSet<>(List.of("SEC-1", "SEC-2", "SEC-3", "SEC-4"));
        assertTrue(ids.stream().noneMatch(all::contains));
        assertEquals(6L, repo.counter("SEC"));
    }

    /**
     * The note in the lock file is only who wrote last: here it names a pid that is gone
     * (as an operator saw, five waiters told a dead pid held it). LOCK_TIMEOUT names the
     * process the kernel says holds the lock.
     */
    @Test
    void lockTimeoutNamesTheProcessTheKernelSaysHoldsTheLock() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Files.isReadable(Path.of("/proc/locks")), "skipped: no /proc/locks");
        CliRepo repo = CliRepo.in(tmp);
        assertEquals(0, repo.taskid("reserve", "SEC").status());
        startHolder(repo);
        // What a holder that wrote no note (or a note from an earlier holder) leaves behind.
        Files.writeString(repo.state().resolve("lock"), "pid 999999999 (long gone) since 2026-01-01T00:00:00Z\n");

        Processes.Result r = repo.taskid("--json", "--lock-timeout", "300", "reserve", "SEC");
        assertEquals(ErrorCode.LOCK_TIMEOUT.exitStatus(), r.status(), r.toString());
        @SuppressWarnings("unchecked")
        Map<String, Object> details = (Map<String, Object>) CliRepo.error(r).get("details");
        String named = (String) details.get("holder");
        assertTrue(named.startsWith("pid " + holder.pid() + " "), "the real holder: " + named);
        assertTrue(named.contains("earlier holder"), "and the note for what it is: " + named);
    }
}
