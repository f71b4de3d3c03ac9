package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.testing.Processes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A counters.json that cannot be read (half-written by a tool, edited by hand) is never
 * overwritten or reset: every command that needs the counters refuses with STATE_CORRUPT
 * (exit 5), the file stays byte for byte as it was, and one copy is kept beside it.
 */
class CorruptStateCliTest {
    @TempDir
    Path tmp;

    private List<Path> copies(CliRepo repo) throws Exception {
        try (Stream<Path> files = Files.list(repo.state())) {
            return files.filter(p -> p.getFileName().toString().startsWith("counters.json.corrupt-"))
                    .toList();
        }
    }

    @Test
    void aCorruptCountersFileIsRefusedKeptAndNeverReset() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        repo.write("TASKS.md", "| SEC-19 | existing |\n");
        assertEquals(0, repo.taskid("reserve", "SEC", "3").status());
        byte[] corrupt = "{\n  \"version\" : 1,\n  \"counters\" : {\n    \"SEC\" : 2".getBytes(StandardCharsets.UTF_8);
        Files.write(repo.counters(), corrupt);

        Processes.Result first = repo.taskid("--json", "reserve", "SEC");
        assertEquals(5, first.status(), first.toString());
        assertEquals("", first.stdout(), first.toString());
        assertEquals("STATE_CORRUPT", CliRepo.error(first).get("code"));
        String message = (String) CliRepo.error(first).get("message");
        assertTrue(message.contains("taskid recover"), "says how to recover: " + message);
        assertArrayEquals(corrupt, Files.readAllBytes(repo.counters()), "untouched");
        List<Path> kept = copies(repo);
        assertEquals(1, kept.size(), kept.toString());
        assertTrue(
                kept.get(0).getFileName().toString().matches("counters\\.json\\.corrupt-\\d{8}T\\d{6}Z"),
                kept.toString());
        assertArrayEquals(corrupt, Files.readAllBytes(kept.get(0)), "the copy is the corrupt file as found");

        // Nothing that would write counters.json gets past the check, not even a forced set.
        List<List<String>> later = List.of(
                List.of("reserve", "SEC"),
                List.of("reserve", "UX", "2"),
                List.of("init"),
                List.of("set", "SEC", "100"),
                List.of("set", "SEC", "1", "--force"),
                List.of("show"),
                List.of("validate", "SEC-20"));
        for (Processes.Result r : repo.taskidEach(later)) {
            assertEquals(ErrorCode.STATE_CORRUPT.exitStatus(), r.status(), r.toString());
            assertTrue(r.stderr().startsWith("taskid: STATE_CORRUPT: "), r.toString());
        }
        Processes.Result seed001 = repo.taskid("reserve", "SEC", "--format", "seed001");
        assertEquals(5, seed001.status(), seed001.toString());
        assertEquals(
                "STATE_CORRUPT",
                ((java.util.Map<?, ?>) CliRepo.object(seed001.stdout()).get("error")).get("code"),
                "seed 001's callers read the error from stdout: " + seed001);
        assertArrayEquals(corrupt, Files.readAllBytes(repo.counters()), "still untouched: no reset");
        assertEquals(1, copies(repo).size(), "one copy per distinct content, not one per call");

        // Moving the file aside is no reset either: the new file starts from the highest the
        // audit log and TASKS.md know (SEC-20..22 were handed out), not from TASKS.md alone.
        Files.move(repo.counters(), repo.state().resolve("counters.json.moved-aside"));
        Processes.Result rebuilt = repo.taskid("reserve", "SEC");
        assertEquals(0, rebuilt.status(), rebuilt.toString());
        assertEquals(List.of("SEC-23"), CliRepo.object(rebuilt.stdout()).get("ids"));
        assertTrue(rebuilt.stderr().contains("created"), rebuilt.toString());
    }
}
