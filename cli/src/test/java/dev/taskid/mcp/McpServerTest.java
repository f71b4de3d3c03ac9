package dev.taskid.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.backend.AuditTrail;
import dev.taskid.check.CollisionCheck;
import dev.taskid.client.TaskIds;
import dev.taskid.inbox.Inbox;
import dev.taskid.json.Json;
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
        Tools tools = new Tools(
                ids::call,
                inbox,
                new AuditLookup(
                        ids.stateDir().dir(),
                        () -> AuditTrail.local(ids.stateDir().dir(), new Json())),
                new CollisionCheck(ids, tmp));
        McpServer server = new McpServer(
                tools, new ByteArrayInputStream(in), out, new PrintStream(log, true, StandardCharsets.UTF_8));
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
        return "{\"jsonrpc\":\"2.0\",\"id\":" + Frames.writeString(id)
                + ",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":" + argsJson + "}}";
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
        assertEquals(
                McpServer.PROTOCOL_VERSIONS.get(0),
                result(r.get(1)).get("protocolVersion"),
                "unknown version: our latest");
        assertEquals("2024-11-05", result(r.get(2)).get("protocolVersion"));
        assertEquals(0L, map(r.get(0)).get("id"));
    }

    @Test
    void toolsListHasEveryToolWithSchemas() throws IOException {
        List<Object> r = session(
                init("2025-06-18"),
                "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
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
        assertEquals(
                Set.of(
                        "reserve_task_ids",
                        "validate_task_ids",
                        "show_counters",
                        "process_inbox",
                        "submit_tasks",
                        "lookup_task_ids",
                        "check_collisions"),
                names);
        Map<String, Object> reserve = map(tools.get(0));
        assertEquals(List.of("prefix"), map(reserve.get("inputSchema")).get("required"));
        assertEquals(
                Set.of("prefix", "count", "purpose", "key"),
                map(map(reserve.get("inputSchema")).get("properties")).keySet());
    }

    @Test
    void oldProtocolVersionsGetNoOutputSchemaNorStructuredContent() throws IOException {
        List<Object> r = session(
                init("2025-03-26"),
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
                call(2, "reserve_task_ids", "{\"prefix\":\"SEC\"}"));
        for (Object t : (List<?>) result(r.get(1)).get("tools")) {
            assertNull(map(t).get("outputSchema"));
        }
        assertNull(result(r.get(2)).get("structuredContent"));
        assertEquals(List.of("SEC-20"), toolJson(r.get(2)).get("ids"));
    }

    @Test
    void reserveTwiceGivesUniqueConsecutiveIdsWithTheVerboseFields() throws IOException {
        List<Object> r = session(
                init("2025-11-25"),
                call(1, "reserve_task_ids", "{\"prefix\":\"SEC\",\"count\":3,\"purpose\":\"review\"}"),
                call("two", "reserve_task_ids", "{\"prefix\":\"SEC\",\"count\":2}"));
        Map<String, Object> a = result(r.get(1));
        Map<String, Object> b = result(r.get(2));
        assertEquals(false, a.get("isError"));
        Map<String, Object> sa = map(a.get("structuredContent"));
        Map<String, Object> sb = map(b.get("structuredContent"));
        assertEquals(List.of("SEC-20", "SEC-21", "SEC-22"), sa.get("ids"));
        assertEquals(List.of("SEC-23", "SEC-24"), sb.get("ids"));
        assertEquals(
                List.of(
                        "ids",
                        "reservedAt",
                        "prefix",
                        "numbers",
                        "previous",
                        "counter",
                        "next",
                        "replayed",
                        "mode",
                        "lockWaitMs"),
                new ArrayList<>(sa.keySet()),
                "the fields of `taskid reserve --verbose`, in its order");
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
        List<Object> r = session(
                init("2025-06-18"),
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
        List<Object> r = session(
                init("2025-06-18"),
                call(1, "reserve_task_ids", "{\"prefix\":\"FOO\"}"),
                call(2, "reserve_task_ids", "{\"prefix\":\"SEC\",\"count\":1001}"),
                call(3, "show_counters", "{\"prefix\":\"nope\"}"));
        String[] codes = {"INVALID_PREFIX", "INVALID_COUNT", "INVALID_PREFIX"};
        for (int i = 0; i < codes.length; i++) {
            Map<String, Object> res = result(r.get(i + 1));
            assertEquals(true, res.get("isError"), () -> "tool error expected: " + res);
            assertNull(
                    res.get("structuredContent"),
                    "errors carry no structuredContent (it would be checked against outputSchema)");
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
        assertEquals(
                Map.of("SEC", 19L),
                map(map(result(r.get(calls.length + 1)).get("structuredContent"))
                        .get("counters")),
                "nothing was reserved");
    }

    @Test
    void validateAndShowCounters() throws IOException {
        List<Object> r = session(
                init("2025-06-18"),
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
        Map<String, Object> all =
                map(map(result(r.get(3)).get("structuredContent")).get("counters"));
        assertEquals(2L, all.get("PERF"));
        assertEquals(19L, all.get("SEC"), "first use scanned TASKS.md");
        assertEquals(14, all.size());
        assertEquals(
                Map.of("PERF", 2L),
                map(map(result(r.get(4)).get("structuredContent")).get("counters")));
    }

    @Test
    void processInboxAddsValidTasksToTasksMdAndReportsRejectedOnesWithTheSeedsMessage() throws IOException {
        Files.writeString(
                tmp.resolve("TASKS.md"),
                "| ID | Title | Estimate | Priority | Status | | Source |\n"
                        + "|---|---|---|---|---|---|---|\n| SEC-19 | old task | | | done | | manual |\n");
        Files.createDirectories(tmp.resolve(".claude"));
        Files.writeString(
                tmp.resolve(".claude/task-inbox.json"),
                "{\"tasks\":[{\"id\":\"SEC-20\",\"title\":\"Rate limit\","
                        + "\"priority\":\"High\",\"source\":\"review\",\"estimate\":\"2h\",\"status\":\"ready\"},"
                        + "{\"id\":\"SEC-22\",\"title\":\"Made up\"}]}");
        List<Object> r = session(
                init("2025-06-18"),
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
        assertEquals(
                "Invalid task ID SEC-22: counter at SEC-20. Run: taskid reserve SEC to reserve IDs first.",
                map(rejected.get(0)).get("reason"));
        assertEquals(first, toolJson(r.get(2)), "the text content carries the same JSON");
        assertTrue(
                Files.readString(tmp.resolve("TASKS.md"))
                        .endsWith(
                                "| SEC-19 | old task | | | done | | manual |\n| SEC-20 | Rate limit | 2h | High | ready | | review |\n"));

        assertEquals(false, result(r.get(3)).get("isError"), "without retry: nothing new, no error");

        Map<String, Object> retried = map(result(r.get(4)).get("structuredContent"));
        assertEquals(List.of(), retried.get("added"));
        assertEquals(1, ((List<?>) retried.get("rejected")).size(), "still not reserved: still rejected, once");
        assertEquals(0L, retried.get("waiting"));
    }

    /** The code of a tool error, checked to be one: isError, no structuredContent, code and advice in the text. */
    private static String toolError(Object reply) throws IOException {
        assertEquals(true, result(reply).get("isError"), () -> "tool error expected: " + reply);
        assertNull(result(reply).get("structuredContent"));
        Map<String, Object> error = map(toolJson(reply).get("error"));
        assertNotNull(error.get("advice"));
        return (String) error.get("code");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static String argumentError(Object reply) {
        Map<String, Object> error = map(map(reply).get("error"));
        assertNotNull(error, () -> "JSON-RPC error expected: " + reply);
        assertEquals((long) McpServer.INVALID_PARAMS, error.get("code"));
        return (String) error.get("message");
    }

    @Test
    void submitTasksQueuesCheckedTasksOnceAndProcessInboxAddsThem() throws IOException {
        String task = "{\"id\":\"SEC-20\",\"title\":\"Rate limit\",\"priority\":\"High\",\"files\":[\"a.java\"]}";
        List<Object> r = session(
                init("2025-06-18"),
                call(1, "reserve_task_ids", "{\"prefix\":\"SEC\"}"),
                call(2, "submit_tasks", "{\"tasks\":[" + task + "]}"),
                call(3, "submit_tasks", "{\"tasks\":[" + task + "]}"),
                call(4, "submit_tasks", "{\"tasks\":[{\"id\":\"SEC-21\",\"title\":\"   \"}]}"),
                call(5, "submit_tasks", "{\"tasks\":[{\"id\":\"SEC-21\",\"titel\":\"typo\"}]}"),
                call(6, "submit_tasks", "{\"tasks\":[{\"id\":\"SEC-21\",\"title\":\"x\",\"files\":\"a.java\"}]}"),
                call(7, "submit_tasks", "{\"tasks\":[]}"),
                call(8, "process_inbox", "{}"));
        Map<String, Object> first = map(result(r.get(2)).get("structuredContent"));
        assertEquals(List.of("SEC-20"), first.get("queued"));
        assertEquals(List.of(), first.get("alreadyQueued"));
        assertEquals(tmp.resolve(".taskid/inbox.json").toString(), first.get("inbox"));
        assertEquals(first, toolJson(r.get(2)));
        assertEquals(
                List.of("SEC-20"),
                map(result(r.get(3)).get("structuredContent")).get("alreadyQueued"),
                "a retry queues nothing twice");
        assertEquals("BAD_REQUEST", toolError(r.get(4)), "a blank title is refused as by `taskid inbox submit`");
        assertTrue(argumentError(r.get(5)).contains("field \"titel\" is unknown"), r.get(5)::toString);
        assertTrue(argumentError(r.get(6)).contains("field \"files\" must be an array"), r.get(6)::toString);
        assertTrue(argumentError(r.get(7)).contains("at least 1 item"), r.get(7)::toString);
        assertEquals(
                List.of("SEC-20"),
                map(result(r.get(8)).get("structuredContent")).get("added"));
        assertTrue(
                Files.readString(tmp.resolve("TASKS.md"))
                        .contains("| SEC-20 | Rate limit |  | High | ready | | inbox |"),
                () -> "TASKS.md: " + read(tmp.resolve("TASKS.md")));
    }

    @Test
    void lookupTaskIdsSaysWhoReservedAnIdWhenAndWhy() throws IOException {
        ids.call(new dev.taskid.protocol.Request.Reserve(null, "SEC", 3, "review findings", "claude-1", "k-1"));
        ids.call(new dev.taskid.protocol.Request.Reserve(null, "SEC", 30, "bulk", "claude-2", null));
        ids.call(new dev.taskid.protocol.Request.SetCounter(null, "SEC", 100, false));
        List<Object> r = session(
                init("2025-06-18"),
                call(
                        1,
                        "lookup_task_ids",
                        "{\"queries\":[\"SEC-21\",\"SEC-22..SEC-23\",\"SEC-60\",\"SEC-40..45\",\"DOC-1\"]}"),
                call(2, "lookup_task_ids", "{\"queries\":[\"SEC\"],\"limit\":1}"),
                call(3, "lookup_task_ids", "{\"queries\":[\"FOO-1\"]}"),
                call(4, "lookup_task_ids", "{\"queries\":[\"SEC-5..SEC-2\"]}"),
                call(5, "lookup_task_ids", "{\"queries\":[\"SEC-1\"],\"limit\":101}"));
        Map<String, Object> out = map(result(r.get(1)).get("structuredContent"));
        List<?> results = (List<?>) out.get("results");
        Map<String, Object> one = map(results.get(0));
        assertEquals(1L, one.get("matched"));
        Map<String, Object> entry = map(((List<?>) one.get("entries")).get(0));
        assertEquals("reserve", entry.get("op"));
        assertEquals("reserved", entry.get("match"));
        assertEquals(List.of("SEC-20", "SEC-21", "SEC-22"), entry.get("ids"));
        assertEquals("review findings", entry.get("purpose"));
        assertEquals("claude-1", entry.get("agent"));
        assertEquals("k-1", entry.get("key"));
        assertEquals("fallback", entry.get("mode"));
        assertEquals(2L, map(results.get(1)).get("matched"), "SEC-22..SEC-23: the two reservations");
        Map<String, Object> passed = map(((List<?>) map(results.get(2)).get("entries")).get(0));
        assertEquals("set", passed.get("op"));
        assertEquals("passed", passed.get("match"), "SEC-60 was never reserved: the set moved the counter past it");
        Map<String, Object> bulk = map(((List<?>) map(results.get(3)).get("entries")).get(0));
        assertEquals(AuditLookup.MAX_IDS_PER_ENTRY, ((List<?>) bulk.get("ids")).size(), "long ID lists are cut");
        assertEquals(10L, bulk.get("idsOmitted"));
        assertEquals(0L, map(results.get(4)).get("matched"), "a configured prefix with no history: nothing, no error");
        assertEquals(out, toolJson(r.get(1)));
        assertEquals(List.of(tmp.resolve(".taskid/audit.log").toString()), out.get("files"));

        Map<String, Object> latest =
                map(((List<?>) map(result(r.get(2)).get("structuredContent")).get("results")).get(0));
        assertEquals(true, latest.get("truncated"));
        assertEquals(1, ((List<?>) latest.get("entries")).size());
        assertEquals("set", map(((List<?>) latest.get("entries")).get(0)).get("op"), "the latest entries are kept");
        assertEquals("INVALID_PREFIX", toolError(r.get(3)));
        assertEquals("INVALID_ID", toolError(r.get(4)));
        assertTrue(argumentError(r.get(5)).contains("at most 100"));
    }

    @Test
    void checkCollisionsFindsDuplicatesAndUnreservedIdsAndChangesNothing() throws IOException {
        ids.call(new dev.taskid.protocol.Request.Peek(
                null, null)); // first use: the counters come from TASKS.md as it was
        Files.writeString(
                tmp.resolve("TASKS.md"), "| SEC-19 | old task |\n| SEC-19 | another task |\n| SEC-500 | made up |\n");
        Files.writeString(tmp.getParent().resolve("outside-" + tmp.getFileName() + ".md"), "| SEC-1 | x |\n");
        try (var huge = java.nio.channels.FileChannel.open(
                tmp.resolve("huge.md"),
                java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            huge.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}), 16 << 20); // sparse, one byte past the 16 MiB limit
        }
        List<Object> r = session(
                init("2025-06-18"),
                call(1, "check_collisions", "{}"),
                call(2, "check_collisions", "{\"limit\":1}"),
                call(3, "check_collisions", "{\"files\":[\"../outside-" + tmp.getFileName() + ".md\"]}"),
                call(4, "check_collisions", "{\"files\":[\"/etc/hostname\"]}"),
                call(5, "check_collisions", "{\"staged\":true}"),
                call(6, "show_counters", "{\"prefix\":\"SEC\"}"),
                call(7, "check_collisions", "{\"files\":[\"huge.md\"]}"));
        Map<String, Object> report = map(result(r.get(1)).get("structuredContent"));
        assertEquals(false, report.get("ok"));
        assertEquals(false, result(r.get(1)).get("isError"), "findings are a result, not a tool error");
        List<?> findings = (List<?>) report.get("findings");
        assertEquals(
                List.of("duplicate", "above-counter"),
                findings.stream().map(f -> map(f).get("kind")).toList());
        assertEquals("SEC-19", map(findings.get(0)).get("id"));
        assertEquals(2, ((List<?>) map(findings.get(0)).get("occurrences")).size());
        assertEquals("SEC-500", map(findings.get(1)).get("id"));
        assertEquals(2L, report.get("totalFindings"));
        assertEquals(false, report.get("truncated"));
        assertEquals(report, toolJson(r.get(1)));
        Map<String, Object> cut = map(result(r.get(2)).get("structuredContent"));
        assertEquals(1, ((List<?>) cut.get("findings")).size());
        assertEquals(true, cut.get("truncated"));
        assertEquals("BAD_REQUEST", toolError(r.get(3)), "nothing outside the work tree is read");
        assertEquals("BAD_REQUEST", toolError(r.get(4)));
        assertEquals("BAD_REQUEST", toolError(r.get(5)), "staged needs a git repository");
        assertEquals(
                Map.of("SEC", 19L),
                map(map(result(r.get(6)).get("structuredContent")).get("counters")),
                "read-only: no counter was raised");
        assertEquals("BAD_REQUEST", toolError(r.get(7)), "a file past the read limit is refused, not read into memory");
        String huge = toolJson(r.get(7)).toString();
        assertTrue(huge.contains("larger than 16 MiB"), huge);
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
                "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{}}",
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\"}");
        int[] codes = {
            McpServer.PARSE_ERROR,
            McpServer.METHOD_NOT_FOUND,
            McpServer.INVALID_PARAMS,
            McpServer.INVALID_REQUEST,
            McpServer.INVALID_PARAMS,
            McpServer.INVALID_REQUEST,
            McpServer.INVALID_REQUEST
        };
        assertEquals(codes.length + 2, r.size(), "a response from the client gets no answer");
        for (int i = 0; i < codes.length; i++) {
            Map<String, Object> error = map(map(r.get(i)).get("error"));
            assertNotNull(error, "error expected: " + r.get(i));
            assertEquals((long) codes[i], error.get("code"), error::toString);
        }
        assertTrue(map(r.get(0)).containsKey("id") && map(r.get(0)).get("id") == null, "parse errors answer id null");
        List<String> listed = ((List<?>) result(r.get(codes.length + 1)).get("tools"))
                .stream().map(t -> (String) map(t).get("name")).toList();
        assertEquals(7, listed.size());
        assertEquals(
                "Unknown tool: rm_rf (known: " + String.join(", ", listed) + ")",
                map(map(r.get(2)).get("error")).get("message"),
                "every tool of the table is named");
        assertEquals(Map.of(), result(r.get(codes.length)), "ping answers {}");
    }

    @Test
    void batchesAndNotifications() throws IOException {
        List<Object> r = session(
                init("2025-03-26"),
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
