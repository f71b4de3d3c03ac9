package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.json.Json;
import dev.taskid.state.StateFile;
import dev.taskid.testing.Processes;
import dev.taskid.testing.Processes.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A repository whose state an earlier version kept in {@code .taskid/}: the first call of
 * this version (a real CLI process in a real git repository) moves it into the git dir under
 * the lock, says so on stderr, keeps the config where it is, and never lowers a counter.
 */
class LegacyStateTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    private Path repo;

    @BeforeEach
    void repository() throws Exception {
        Assumptions.assumeTrue(Processes.onPath("git").isPresent(), "skipped: git is not installed");
        repo = Files.createDirectories(tmp.resolve("repo"));
        assertEquals(
                0,
                Processes.run(List.of("git", "init", "-q"), repo, Map.of(), TIMEOUT)
                        .status());
        Files.createDirectories(repo.resolve(".taskid"));
        Files.writeString(repo.resolve(".taskid/config.json"), "{\"extraPrefixes\":[\"OPS\"]}");
        // The old layout, written by this CLI itself pointed at .taskid (--dir keeps that layout).
        ok(taskid("--dir", ".taskid", "reserve", "SEC", "7"));
        ok(taskid("--dir", ".taskid", "reserve", "OPS", "2"));
    }

    @Test
    void theOldStateMovesIntoTheGitDirOnFirstUse() throws Exception {
        Result first = ok(taskid("reserve", "SEC"));
        assertTrue(first.stdout().contains("SEC-8"), first.toString());
        assertTrue(first.stderr().contains("moved the state from " + repo.resolve(".taskid")), first.toString());
        Path state = repo.resolve(".git/taskid");
        assertEquals(Map.of("OPS", 2L, "SEC", 8L), counters(state));
        assertFalse(Files.exists(repo.resolve(".taskid/counters.json")), "moved, not copied");
        assertFalse(Files.exists(repo.resolve(".taskid/audit.log")));
        assertTrue(Files.isRegularFile(repo.resolve(".taskid/config.json")), "the config stays committable");
        String audit = Files.readString(state.resolve("audit.log"));
        assertTrue(
                audit.contains("\"SEC-1\"") && audit.contains("\"SEC-8\""), "old and new lines in one log: " + audit);

        Result second = ok(taskid("reserve", "OPS"));
        assertTrue(second.stdout().contains("OPS-3"), second.toString());
        assertFalse(second.stderr().contains("moved"), "once: " + second);
    }

    /** Both places hold counters (an older client wrote after the move): each prefix keeps the higher one. */
    @Test
    void whenBothHoldCountersTheHigherOfEachWins() throws Exception {
        ok(taskid("reserve", "SEC")); // moves: SEC 8, OPS 2
        Files.copy(repo.resolve(".taskid/config.json"), repo.resolve(".git/taskid/config.json"));
        ok(taskid("--dir", ".git/taskid", "reserve", "OPS", "5")); // OPS 7 in the new place
        ok(taskid("--dir", ".taskid", "reserve", "SEC", "20")); // an old client: SEC 1..20 again in .taskid
        Result merged = ok(taskid("reserve", "SEC"));
        // At least SEC-21 (the old place handed out up to SEC-20); higher is allowed: the old
        // place's first use also counts what its leftover high-water mark knew (SEC 8).
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("SEC-(\\d+)").matcher(merged.stdout());
        assertTrue(m.find(), merged.toString());
        long next = Long.parseLong(m.group(1));
        assertTrue(next >= 21, "never lowered, never below the old place: " + merged);
        assertTrue(merged.stderr().contains("the higher value of each prefix kept"), merged.toString());
        assertEquals(Map.of("OPS", 7L, "SEC", next), counters(repo.resolve(".git/taskid")));
    }

    private static Map<String, Long> counters(Path state) {
        return new StateFile(state.resolve("counters.json"), new Json(), Clock.systemUTC())
                .read()
                .orElseThrow()
                .counters();
    }

    private Result taskid(String... args) {
        return Processes.run(Processes.taskid(args), repo, Map.of(), TIMEOUT);
    }

    private static Result ok(Result r) {
        assertEquals(0, r.status(), r::toString);
        return r;
    }
}
