package dev.taskid.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code taskid mcp} as a real process: stdout holds protocol frames only; the CLI's verbose fields. */
class McpProcessTest {
    @TempDir
    Path tmp;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @Test
    void stdoutCarriesOnlyFramesAndResultsMatchReserveVerbose() throws IOException {
        Files.writeString(tmp.resolve("TASKS.md"), "| UX-66 | existing |\n");
        String state = tmp.resolve(".taskid").toString();
        String input = String.join(
                "\n",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
                        + "\"capabilities\":{},\"clientInfo\":{\"name\":\"proc-test\",\"version\":\"0\"}}}",
                "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"reserve_task_ids\","
                        + "\"arguments\":{\"prefix\":\"UX\",\"count\":5}}}",
                "");
        // First use: the state is created from TASKS.md, and that notice must not reach stdout.
        Processes.Result r = Processes.run(
                Processes.taskid("--dir", state, "mcp"),
                tmp,
                Map.of(),
                input.getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(30));
        assertEquals(0, r.status(), r::toString);
        List<Object> frames = new ArrayList<>();
        for (String line : r.stdout().split("\n")) {
            Map<String, Object> frame = map(Frames.parse(line));
            assertEquals("2.0", frame.get("jsonrpc"), line);
            frames.add(frame);
        }
        assertEquals(2, frames.size(), r::toString);
        assertFalse(r.stderr().isEmpty(), "diagnostics on stderr");
        Map<String, Object> mcp = map(map(map(frames.get(1)).get("result")).get("structuredContent"));
        assertEquals(List.of("UX-67", "UX-68", "UX-69", "UX-70", "UX-71"), mcp.get("ids"));

        Processes.Result cli = Processes.run(
                Processes.taskid("--dir", state, "reserve", "UX", "2", "--verbose"),
                tmp,
                Map.of(),
                Duration.ofSeconds(30));
        assertEquals(0, cli.status(), cli::toString);
        Map<String, Object> verbose = map(Frames.parse(cli.stdout().trim()));
        assertEquals(
                new ArrayList<>(verbose.keySet()),
                new ArrayList<>(mcp.keySet()),
                "reserve_task_ids carries exactly the fields of `taskid reserve --verbose`");
        assertEquals(List.of("UX-72", "UX-73"), verbose.get("ids"));
        assertTrue(r.stderr().contains("proc-test"), r::toString);
    }
}
