package dev.taskid.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code taskid mcp} driven by a real MCP client that nobody here wrote: the official TypeScript
 * SDK ({@code @modelcontextprotocol/sdk}), installed from the npm registry into
 * {@code cli/target/npm} on first run. Skipped, saying why, when node/npm are missing or the
 * registry cannot be reached.
 */
class McpSdkClientTest {
    /** Pinned so that a new SDK release cannot change what this test means. */
    static final String SDK = "@modelcontextprotocol/sdk@1.32.2";

    private static final Pattern NETWORK_TROUBLE = Pattern.compile(
            "ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET|FetchError"
                    + "|network|socket hang up|getaddrinfo|proxy",
            Pattern.CASE_INSENSITIVE);

    private static Path npmDir;
    private static String node;

    @TempDir
    Path tmp;

    @BeforeAll
    static void installSdk() throws IOException {
        node = Processes.onPath("node").orElse(null);
        String npm = Processes.onPath("npm").orElse(null);
        Assumptions.assumeTrue(
                node != null && npm != null,
                "skipped: node and npm are needed on PATH to run the MCP TypeScript SDK client");
        npmDir = Path.of(System.getProperty("basedir", "")).toAbsolutePath().resolve("target/npm");
        Files.createDirectories(npmDir);
        // Builds sharing this tree may run at once: one npm install at a time.
        try (FileChannel ch = FileChannel.open(
                        npmDir.resolve(".install.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock ignored = ch.lock()) {
            Path marker = npmDir.resolve(".installed-" + SDK.replaceAll("[^A-Za-z0-9.]", "_"));
            if (!Files.exists(marker)) {
                Processes.Result r = Processes.run(
                        List.of(
                                npm,
                                "install",
                                "--no-audit",
                                "--no-fund",
                                "--ignore-scripts",
                                "--no-package-lock",
                                "--fetch-retries=1",
                                "--fetch-timeout=30000",
                                "--prefix",
                                npmDir.toString(),
                                SDK),
                        npmDir,
                        Map.of(),
                        Duration.ofMinutes(3));
                if (r.status() != 0) {
                    String out = r.stdout() + r.stderr();
                    Assumptions.assumeFalse(
                            NETWORK_TROUBLE.matcher(out).find(),
                            () -> "skipped: the npm registry is unreachable, cannot install " + SDK + ":\n" + out);
                    throw new AssertionError("npm install " + SDK + " failed:\n" + r);
                }
                Files.writeString(marker, SDK + "\n");
            }
        }
        try (InputStream in = McpSdkClientTest.class.getResourceAsStream("sdk-client.mjs")) {
            Files.copy(in, npmDir.resolve("sdk-client.mjs"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    private static Map<String, Object> textJson(Object callResult) throws IOException {
        List<?> content = (List<?>) map(callResult).get("content");
        return map(Frames.parse((String) map(content.get(0)).get("text")));
    }

    private static Map<String, Object> structured(Map<String, Object> summary, String call) {
        Map<String, Object> result = map(summary.get(call));
        assertNotEquals(true, result.get("isError"), () -> call + ": " + result);
        return map(result.get("structuredContent"));
    }

    private static String toolErrorCode(Map<String, Object> summary, String call) throws IOException {
        Map<String, Object> result = map(summary.get(call));
        assertEquals(true, result.get("isError"), () -> call + ": " + result);
        return (String) map(textJson(result).get("error")).get("code");
    }

    @Test
    void theOfficialTypeScriptClientReservesUniqueIdsAndSeesErrorCodes() throws IOException {
        Path state = tmp.resolve(".taskid");
        Files.writeString(tmp.resolve("TASKS.md"), "| SEC-19 | existing |\n");
        List<String> command =
                new ArrayList<>(List.of(node, npmDir.resolve("sdk-client.mjs").toString()));
        command.addAll(Processes.taskid("--dir", state.toString(), "mcp"));
        Processes.Result r = Processes.run(command, tmp, Map.of(), Duration.ofSeconds(60));
        assertEquals(0, r.status(), r::toString);
        Map<String, Object> s = map(Frames.parse(r.stdout().trim()));

        assertEquals("taskid", map(s.get("server")).get("name"));
        assertNotNull(map(s.get("capabilities")).get("tools"));
        assertTrue(((String) s.get("instructions")).contains("reserve_task_ids"));
        Set<Object> names = new HashSet<>();
        for (Object t : (List<?>) s.get("tools")) {
            names.add(map(t).get("name"));
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
        for (Object t : (List<?>) s.get("tools")) {
            assertEquals("object", map(map(t).get("inputSchema")).get("type"), t::toString);
            assertEquals("object", map(map(t).get("outputSchema")).get("type"), t::toString);
        }

        // Two reservations: unique, consecutive, after the 19 already in TASKS.md.
        Map<String, Object> first = map(map(s.get("first")).get("structuredContent"));
        Map<String, Object> second = map(map(s.get("second")).get("structuredContent"));
        assertEquals(List.of("SEC-20", "SEC-21", "SEC-22"), first.get("ids"));
        assertEquals(List.of("SEC-23", "SEC-24"), second.get("ids"));
        Set<Object> all = new HashSet<>((List<?>) first.get("ids"));
        all.addAll((List<?>) second.get("ids"));
        assertEquals(5, all.size());
        assertEquals("fallback", first.get("mode"));
        assertEquals(first, textJson(s.get("first")), "text content carries the same JSON");
        assertFalse(map(s.get("first")).containsKey("isError")
                && (Boolean) map(s.get("first")).get("isError"));

        // The same key: the same IDs.
        assertEquals(
                second.get("ids"),
                map(map(s.get("replay")).get("structuredContent")).get("ids"));
        assertEquals(true, map(map(s.get("replay")).get("structuredContent")).get("replayed"));

        // An invalid prefix: a tool error whose code the client sees.
        Map<String, Object> invalid = map(s.get("invalid"));
        assertEquals(true, invalid.get("isError"));
        assertNull(invalid.get("structuredContent"));
        Map<String, Object> error = map(textJson(invalid).get("error"));
        assertEquals("INVALID_PREFIX", error.get("code"));
        assertTrue(((String) error.get("message")).contains("Invalid prefix \"FOO\""));
        assertEquals(false, error.get("retry"));
        assertNotNull(error.get("advice"));

        Map<String, Object> validate = map(map(s.get("validate")).get("structuredContent"));
        assertEquals(false, validate.get("allIssued"));
        assertEquals(
                Map.of("SEC", 24L),
                map(map(map(s.get("show")).get("structuredContent")).get("counters")));
        assertEquals(-32602L, map(s.get("unknownTool")).get("code"), "unknown tool: JSON-RPC invalid params");
        for (Object name : names) {
            assertTrue(
                    ((String) map(s.get("unknownTool")).get("message")).contains((String) name),
                    "the unknown-tool error names " + name);
        }

        // Every structured result matches its tool's outputSchema, with no undeclared field.
        assertEquals(Map.of(), s.get("schemaErrors"));

        Map<String, Object> submitted = structured(s, "submit");
        assertEquals(List.of("SEC-20"), submitted.get("queued"));
        assertEquals(tmp.resolve(".taskid/inbox.json").toString(), submitted.get("inbox"));
        assertEquals(List.of("SEC-20"), structured(s, "submitAgain").get("alreadyQueued"));
        assertEquals(-32602L, map(s.get("submitTypo")).get("code"));
        assertTrue(
                ((String) map(s.get("submitTypo")).get("message")).contains("\"titel\""),
                s.get("submitTypo")::toString);
        assertEquals(List.of("SEC-20"), structured(s, "process").get("added"));

        // Who reserved SEC-21 and why: the first reservation, by this client, with its purpose.
        List<?> found = (List<?>) structured(s, "lookup").get("results");
        Map<String, Object> sec21 = map(((List<?>) map(found.get(0)).get("entries")).get(0));
        assertEquals(List.of("SEC-20", "SEC-21", "SEC-22"), sec21.get("ids"));
        assertEquals("sdk test", sec21.get("purpose"));
        assertEquals("taskid-sdk-test", sec21.get("agent"));
        assertEquals("reserved", sec21.get("match"));
        Map<String, Object> keyed = map(((List<?>) map(found.get(1)).get("entries")).get(0));
        assertEquals("sdk-test-key", keyed.get("key"));
        assertEquals(1L, map(found.get(1)).get("matched"), "the replayed call reserved nothing: one entry");
        assertEquals(2, ((List<?>) map(found.get(2)).get("entries")).size(), "limit 2");
        assertEquals("INVALID_PREFIX", toolErrorCode(s, "lookupUnknown"));
        assertEquals(-32602L, map(s.get("lookupTooMany")).get("code"));

        assertEquals(true, structured(s, "checkClean").get("ok"));
        Map<String, Object> check = structured(s, "check");
        assertEquals(false, check.get("ok"));
        assertEquals(
                List.of("duplicate SEC-20", "above-counter SEC-900"),
                ((List<?>) check.get("findings"))
                        .stream()
                                .map(f -> map(f).get("kind") + " " + map(f).get("id"))
                                .toList());
        assertEquals("BAD_REQUEST", toolErrorCode(s, "checkOutside"), "a file outside the work tree is not read");
        assertTrue(((String) s.get("serverStderr")).contains("taskid mcp"), "diagnostics go to stderr");
        System.out.printf(
                "MCP TypeScript SDK client: initialize round trip %.0f ms (JVM start included)%n",
                ((Number) s.get("initializeMs")).doubleValue());
    }
}
