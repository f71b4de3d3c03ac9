package dev.taskid.wrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.testing.Processes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Wrap enabled (or changed) on a prefix with history, and a seed imported without its
 * active_projects, never hand a number out again: the numbers handed out so far are carried
 * over as active until someone archives them.
 */
class WrapHistoryCliTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private final Json json = new Json();

    @TempDir
    Path root;

    private Processes.Result taskid(String... args) {
        List<String> words =
                new ArrayList<>(List.of("--dir", root.resolve(".taskid").toString()));
        words.addAll(List.of(args));
        return Processes.run(Processes.taskid(words.toArray(String[]::new)), root, Map.of(), TIMEOUT);
    }

    private void config(String text) throws Exception {
        Files.createDirectories(root.resolve(".taskid"));
        Files.writeString(root.resolve(".taskid/config.json"), text);
    }

    private Object ids(Processes.Result r) throws Exception {
        byte[] bytes = r.stdout().trim().getBytes(StandardCharsets.UTF_8);
        return json.readObject(bytes, 0, bytes.length).get("ids");
    }

    @Test
    void enablingWrapOnAPrefixAt1500HandsOutNoNumberAgain() throws Exception {
        assertEquals(0, taskid("set", "SEC", "1500").status());
        config("{\"prefixOptions\":{\"SEC\":{\"wrap\":1000}}}");

        Processes.Result next = taskid("reserve", "SEC");
        assertEquals(ErrorCode.NUMBER_CONFLICT.exitStatus(), next.status(), "SEC-501 was handed out before: " + next);
        assertTrue(
                next.stderr().contains("NUMBER_CONFLICT") && next.stderr().contains("taskid archive SEC 501"),
                next.toString());

        assertEquals(0, taskid("archive", "SEC", "501-502").status()); // the user says these are done
        Processes.Result after = taskid("reserve", "SEC", "2");
        assertEquals(0, after.status(), after.toString());
        assertEquals(List.of("SEC-501", "SEC-502"), ids(after));

        config("{\"prefixOptions\":{\"SEC\":{\"wrap\":300}}}"); // shrunk below the counter: still only archived numbers
        Processes.Result shrunk = taskid("reserve", "SEC");
        assertEquals(ErrorCode.NUMBER_CONFLICT.exitStatus(), shrunk.status(), shrunk.toString());
    }

    @Test
    void aSeedImportedWithoutActiveProjectsKeepsItsNumbersActive() throws Exception {
        config("{\"extraPrefixes\":[\"PROJECT\"],\"prefixOptions\":{\"PROJECT\":{\"wrap\":1000}}}");
        Path seed = root.resolve(".opencode/specs/state.json");
        Files.createDirectories(seed.getParent());
        Files.writeString(seed, "{\"next_project_number\": 998}");
        assertEquals(
                0,
                taskid("import", "--from", seed.toString(), "--opencode-prefix", "PROJECT")
                        .status());

        Processes.Result cycle = taskid("reserve", "PROJECT", "3");
        assertEquals(List.of("PROJECT-998", "PROJECT-999", "PROJECT-000"), ids(cycle), cycle.toString());
        Processes.Result again = taskid("reserve", "PROJECT");
        assertEquals(ErrorCode.NUMBER_CONFLICT.exitStatus(), again.status(), "PROJECT-001 is the seed's: " + again);
    }
}
