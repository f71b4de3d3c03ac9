package dev.taskid.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.inbox.Inbox;
import dev.taskid.state.StateDir;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The MCP server in-process, in file-lock mode (no daemon): JSON-RPC framing, tools, errors. */
class McpServerTest {
    @TempDir
    Path tmp;
    private TaskIds ids;
    private Inbox inbox;
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @BeforeEach
    void open() throws IOException {
        Files.writeString(tmp.resolve("TASKS.md"), "| SEC-19 | old task |\n");
        ids = TaskIds.open(StateDir.of(tmp.resolve(".taskid")), TaskIds.Options.DEFAULT);
        inbox = new Inbox(ids, Duration.ofSeconds(30));
    }

    @AfterEach
    void close() {
        inbox.close();
        ids.close();
    }

    /** Feeds {@code lines} to a server and returns every line it wrote to stdout, parsed. */
    private List<Object> session(String... lines) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] in = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
        McpServer server = new McpServer(ids::call, inbox::process, new ByteArrayInputStream(in), out,
                new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(0, server.run());
        List<Object> replies = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n", -1)) {
            if (!line.isEmpty()) {
                replies.add(Frames.parse(line)); // every line of stdout is one JSON-RPC frame
            }
        }
        assertTrue(out.toString(StandardCharsets.UTF_8).endsWith("\n") || out.size() == 0);
        return replies;
    }

    private static String init(String version) {
        return "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"" + version
                + "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"test-agent\",\"version\":\"1.0\"}}}";
    }

    private static String call(Object id, String tool, String argsJson) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + Frames.writeString(id) + ",\"method\":\"tools/call\",\"params\":{\"name\":\""
                + tool + "\",\"arguments\":" + argsJson + "}}";
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    private static Map<String, Object> result(Object reply) {
        assertNull(map(reply).get("error"), () -> "unexpected error: " + reply);
        return map(map(reply).get("result"));
    }

    /** The tool result's JSON, from the text content (present in every protocol version). */
    private static Map<String, Object> toolJson(Object reply) throws IOException {
        List<?> content = (List<?>) result(reply).get("content");
        assertEquals(1, content.size());
        assertEquals("text", map(content.get(0)).get("type"));
        return map(Frames.parse((String) map(content.get(0)).get("text")));
    }

    @Test
    void initializeNegotiatesTheVersionAndDescribesTheServer() throws IOException {
        List<Object> r = session(init("2025-06-18"), init("1999-01-01"), init("2024-11-05"));
        assertEquals(3, r.size());
        Map<String, Object> first = result(r.get(0));
        assertEquals("2025-06-18", first.get("protocolVersion"));
        assertEquals(Map.of("tools", Map.of("listChanged", false)), first.get("capabilities"));
        assertEquals("taskid", map(first.get("serverInfo")).get("name"));
        assertTrue(((String) first.get("instructions")).contains("reserve_task_ids"));
        assertEquals(McpServer.PROTOCOL_VERSIONS.get(0), result(r.get(1)).get("protocolVersion"), "unknown version: our latest");
        assertEquals("2024-11-05", result(r.get(2)).get("protocolVersion"));
        assertEquals(0L, map(r.get(0)).get("id"));
    }

    @Test
    void toolsListHasTheFourToolsWithSchemas() throws IOException {
        List<Object> r = session(init("2025-06-18"), "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
        assertEquals(2, r.size(), "the notification is not answered");
        List<?> tools = (List<?>) result(r.get(1)).get("tools");
        Set<Object> names = new HashSet<>();
        for (Object t : tools) {
            names.add(map(t).get("name"));
            assertEquals("object", map(map(t).get("inputSchema")).get("type"));
            assertNotNull(map(t).get("outputSchema"));
            assertNotNull(map(t).get("description"));
        }
        assertEquals(Set.of("reserve_task_ids", "validate_task_ids", "show_counters", "process_inbox"), names);
        Map<String, Object> reserve = map(tools.get(0));
        assertEquals(List.of("prefix"), map(reserve.get("inputSchema")).get("required"));
        assertEquals(Set.of("prefix", "count", "purpose", "key"), map(map(reserve.get("inputSchema")).get("properties")).keySet());
    }

    @Test
    void oldProtocolVersionsGetNoOutputSchemaNorStructuredContent() throws IOException {
        List<Object> r = session(init("2025-03-26"), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
                call(2, "reserve_task_ids", "{\"prefix\":\"SEC\"}"));
        for (Object t : (List<?>) result(r.get(1)).get("tools")) {
            assertNull(map(t).get("outputSchema"));
        }
        assertNull(result(r.get(2)).get("structuredContent"));
        assertEquals(List.of("SEC-20"), toolJson(r.get(2)).get("ids"));
    }

    @Test
    void reserveTwiceGivesUniqueConsecutiveIdsWithTheVerboseFields() throws IOException {
        List<Object> r = session(init("2025-11-25"),
                call(1, "reserve_task_ids", "{\"prefix\":\"SEC\",\"count\":3,\"purpose\":\"review\"}"),
                call("two", "reserve_task_ids", "{\"prefix\":\"SEC\",\"count\":2}"));
        Map<String, Object> a = result(r.get(1));
        Map<String, Object> b = result(r.get(2));
        assertEquals(false, a.get("isError"));
        Map<String, Object> sa = map(a.get("structuredContent"));
        Map<String, Object> sb = map(b.get("structuredContent"));
        assertEquals(List.of("SEC-20", "SEC-21", "SEC-22"), sa.get("ids"));
        assertEquals(List.of("SEC-23", "SEC-24"), sb.get("ids"));
        assertEquals(List.of("ids", "reservedAt", "prefix", "numbers", "previous", "counter", "next", "replayed", "mode",
                "lockWaitMs"), new ArrayList<>(sa.keySet()), "the fields of `taskid reserve --verbose`, in its order");
        assertEquals(List.of(20L, 21L, 22L), sa.get("numbers"));
        assertEquals(19L, sa.get("previous"));
        assertEquals(22L, sa.get("counter"));
        assertEquals(23L, sa.get("next"));
        assertEquals("fallback", sa.get("mode"));
        assertTrue(((String) sa.get("reservedAt")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));
        assertEquals(sa, toolJson(r.get(1)), "text content = structured content");
        assertEquals("two", map(r.get(2)).get("id"));
    }

    @Test
    void aKeyMakesRetriesReturnTheSameIds() throws IOException {
        List<Object> r = session(init("2025-06-18"),
                call(1, "reserve_task_ids", "{\"prefix\":\"UX\",\"count\":2,\"key\":\"agent7-step3\"}"),
                call(2, "reserve_task_ids", "{\"prefix\":\"UX\",\"count\":2,\"key\":\"agent7-step3\"}"),
                call(3, "reserve_task_ids", "{\"prefix\":\"UX\",\"count\":5,\"key\":\"agent7-step3\"}"));
        assertEquals(toolJson(r.get(1)).get("ids"), toolJson(r.get(2)).get("ids"));
        assertEquals(true, toolJson(r.get(2)).get("replayed"));
        assertEquals(true, result(r.get(3)).get("isError"));
        assertEquals("KEY_REUSED", map(toolJson(r.get(3)).get("error")).get("code"));
    }

    @Test
    void refusalsAreToolErrorsWithCodeMessageAndAdvice() throws IOException {
        List<Object> r = session(init("2025-06-18"),
                call(1, "reserve_task_ids", "{\"prefix\":\"FOO\"}"),
                call(2, "reserve_task_ids", "{\"prefix\":\"SEC\",\"count\":1001}"),
                call(3, "show_counters", "{\"prefix\":\"nope\"}"));
        String[] codes = {"INVALID_PREFIX", "INVALID_COUNT", "INVALID_PREFIX"};
        for (int i = 0; i < codes.length; i++) {
            Map<String, Object> res = result(r.get(i + 1));
            assertEquals(true, res.get("isError"), () -> "tool error expected: " + res);
            assertNull(res.get("structuredContent"), "errors carry no structuredContent (it would be checked against outputSchema)");
            Map<String, Object> error = map(toolJson(r.get(i + 1)).get("error"));
            assertEquals(codes[i], error.get("code"), error::toString);
            assertNotNull(error.get("message"));
            assertNotNull(error.get("advice"));
            assertEquals(false, error.get("retry"));
        }
        Map<String, Object> invalid = map(toolJson(r.get(1)).get("error"));
        assertTrue(((String) invalid.get("message")).startsWith("Invalid prefix \"FOO\". Valid: SEC, PERF"));
        assertTrue(((List<?>) map(invalid.get("details")).get("valid")).contains("SEC"));
    }

    /**
     * Arguments that break the tool's inputSchema are refused with a JSON-RPC error naming the
     * argument, never guessed at: "2" is not 2 and null is not the default (issue 10). Nothing
     * is reserved by any of them.
     */
    @Test
    void argumentsOutsideTheSchemaAreJsonRpcErrorsNamingTheArgument() throws IOException {
        String[][] calls = {
            {"reserve_task_ids", "{\"prefix\":\"SEC\",\"count\":\"2\"}", "count"},
            {"reserve_task_ids", "{\"prefix\":\"SEC\",\"count\":null}", "count"},
            {"reserve_task_ids", "{\"prefix\":\"SEC\",\"count\":2.0}", "count"},
            {"reserve_task_ids", "{\"prefix\":\"SEC\",\"count\":0}", "count"},
            {"reserve_task_ids", "{\"prefix\":\"SEC\",\"count\":\"many\"}", "count"},
            {"reserve_task_ids", "{\"prefix\":\"SEC\",\"cnt\":2}", "cnt"},
            {"reserve_task_ids", "{}", "prefix"},
            {"reserve_task_ids", "{\"prefix\":null}", "prefix"},
            {"reserve_task_ids", "{\"prefix\":\"SEC\",\"key\":\"\"}", "key"},
            {"validate_task_ids", "{}", "ids"},
            {"validate_task_ids", "{\"ids\":\"SEC-1\"}", "ids"},
            {"validate_task_ids", "{\"ids\":[\"SEC-1\",2]}", "ids"},
            {"validate_task_ids", "{\"ids\":[]}", "ids"},
            {"show_counters", "{\"prefix\":[\"SEC\"]}", "prefix"},
            {"process_inbox", "{\"retry\":\"yes\"}", "retry"},
        };
        String[] lines = new String[calls.length + 2];
        lines[0] = init("2025-06-18");
        for (int i = 0; i < calls.length; i++) {
            lines[i + 1] = call(i + 1, calls[i][0], calls[i][1]);
        }
        lines[calls.length + 1] = call(99, "show_counters", "{\"prefix\":\"SEC\"}");
        List<Object> r = session(lines);
        for (int i = 0; i < calls.length; i++) {
            Map<String, Object> error = map(map(r.get(i + 1)).get("error"));
            String what = calls[i][0] + " " + calls[i][1];
            assertNotNull(error, () -> what + ": JSON-RPC error expected: " + r);
            assertEquals((long) McpServer.INVALID_PARAMS, error.get("code"), what);
            assertTrue(((String) error.get("message")).contains("\"" + calls[i][2] + "\""), what + ": " + error);
            assertEquals(calls[i][2], map(error.get("data")).get("argument"), what);
        }
        assertEquals(Map.of("SEC", 19L), map(map(result(r.get(calls.length + 1)).get("structuredContent")).get("counters")),
                "nothing was reserved");
    }

    @Test
    void validateAndShowCounters() throws IOException {
        List<Object> r = session(init("2025-06-18"),
                call(1, "reserve_task_ids", "{\"prefix\":\"PERF\",\"count\":2}"),
                call(2, "validate_task_ids", "{\"ids\":[\"PERF-2\",\"PERF-3\",\"nonsense\"]}"),
                call(3, "show_counters", "{}"),
                call(4, "show_counters", "{\"prefix\":\"PERF\"}"));
        Map<String, Object> v = map(result(r.get(2)).get("structuredContent"));
        assertEquals(false, v.get("allIssued"));
        List<?> results = (List<?>) v.get("results");
        assertEquals(true, map(results.get(0)).get("issued"));
        assertEquals(false, map(results.get(1)).get("issued"));
        assertTrue(((String) map(results.get(1)).get("reason")).contains("PERF-2"));
        assertNull(map(results.get(0)).get("reason"));
        Map<String, Object> all = map(map(result(r.get(3)).get("structuredContent")).get("counters"));
        assertEquals(2L, all.get("PERF"));
        assertEquals(19L, all.get("SEC"), "first use scanned TASKS.md");
        assertEquals(14, all.size());
        assertEquals(Map.of("PERF", 2L), map(map(result(r.get(4)).get("structuredContent")).get("counters")));
    }

    @Test
    void processInboxAddsValidTasksToTasksMdAndReportsRejectedOnesWithTheSeedsMessage() throws IOException {
        Files.writeString(tmp.resolve("TASKS.md"), "| ID | Title | Estimate | Priority | Status | | Source |\n"
                + "|---|---|---|---|---|---|---|\n| SEC-19 | old task | | | done | | manual |\n");
        Files.createDirectories(tmp.resolve(".claude"));
        Files.writeString(tmp.resolve(".claude/task-inbox.json"), "{\"tasks\":[{\"id\":\"SEC-20\",\"title\":\"Rate limit\","
                + "\"priority\":\"High\",\"source\":\"review\",\"estimate\":\"2h\",\"status\":\"ready\"},"
                + "{\"id\":\"SEC-22\",\"title\":\"Made up\"}]}");
        List<Object> r = session(init("2025-06-18"),
                call(1, "reserve_task_ids", "{\"prefix\":\"SEC\"}"),
                call(2, "process_inbox", "{}"),
                call(3, "process_inbox", "{\"retry\":false}"),
                call(4, "process_inbox", "{\"retry\":true}"));
        Map<String, Object> first = map(result(r.get(2)).get("structuredContent"));
        assertEquals(false, result(r.get(2)).get("isError"), "a rejected task is a result, not a tool error");
        assertEquals(List.of("SEC-20"), first.get("added"));
        List<?> rejected = (List<?>) first.get("rejected");
        assertEquals(1, rejected.size());
        assertEquals("SEC-22", map(rejected.get(0)).get("id"));
        assertEquals("Invalid task ID SEC-22: counter at SEC-20. Run: taskid reserve SEC to reserve IDs first.",
                map(rejected.get(0)).get("reason"));
        assertEquals(first, toolJson(r.get(2)), "the text content carries the same JSON");
        assertTrue(Files.readString(tmp.resolve("TASKS.md")).endsWith(
                "| SEC-19 | old task | | | done | | manual |\n| SEC-20 | Rate limit | 2h | High | ready | | review |\n"));

        assertEquals(false, result(r.get(3)).get("isError"), "without retry: nothing new, no error");

        Map<String, Object> retried = map(result(r.get(4)).get("structuredContent"));
        assertEquals(List.of(), retried.get("added"));
        assertEquals(1, ((List<?>) retried.get("rejected")).size(), "still not reserved: still rejected, once");
        assertEquals(0L, retried.get("waiting"));
    }

    @Test
    void jsonRpcErrorsForProtocolProblems() throws IOException {
        List<Object> r = session(
                "this is not json",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"rm_rf\",\"arguments\":{}}}",
                "{\"jsonrpc\":\"2.0\",\"id\":3}",
                "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":[1]}",
                "[]",
                "42",
                "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{}}");
        int[] codes = {McpServer.PARSE_ERROR, McpServer.METHOD_NOT_FOUND, McpServer.INVALID_PARAMS,
                McpServer.INVALID_REQUEST, McpServer.INVALID_PARAMS, McpServer.INVALID_REQUEST, McpServer.INVALID_REQUEST};
        assertEquals(codes.length + 1, r.size(), "a response from the client gets no answer");
        for (int i = 0; i < codes.length; i++) {
            Map<String, Object> error = map(map(r.get(i)).get("error"));
            assertNotNull(error, "error expected: " + r.get(i));
            assertEquals((long) codes[i], error.get("code"), error::toString);
        }
        assertTrue(map(r.get(0)).containsKey("id") && map(r.get(0)).get("id") == null, "parse errors answer id null");
        assertEquals("Unknown tool: rm_rf (known: reserve_task_ids, validate_task_ids, show_counters, process_inbox)",
                map(map(r.get(2)).get("error")).get("message"), "every tool of the table is named");
        assertEquals(Map.of(), result(r.get(codes.length)), "ping answers {}");
    }

    @Test
    void batchesAndNotifications() throws IOException {
        List<Object> r = session(init("2025-03-26"),
                "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\"},"
                        + call(2, "reserve_task_ids", "{\"prefix\":\"DOC\"}") + "]",
                // A request sent as a notification is not executed: its IDs could never be delivered.
                "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"reserve_task_ids\",\"arguments\":{\"prefix\":\"DOC\"}}}",
                call(3, "reserve_task_ids", "{\"prefix\":\"DOC\"}"));
        assertEquals(3, r.size());
        List<?> batch = (List<?>) r.get(1);
        assertEquals(2, batch.size());
        assertEquals(List.of("DOC-1"), toolJson(batch.get(1)).get("ids"));
        assertEquals(List.of("DOC-2"), toolJson(r.get(2)).get("ids"));
    }

    @Test
    void blankLinesAndCrLfAreTolerated() throws IOException {
        List<Object> r = session("", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r", "   ");
        assertEquals(1, r.size());
        assertFalse(log.toString(StandardCharsets.UTF_8).contains("Exception"));
    }
}
