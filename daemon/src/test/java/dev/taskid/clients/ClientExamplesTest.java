package dev.taskid.clients;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.mcp.McpServer;
import dev.taskid.shim.Shims;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.Processes;
import dev.taskid.testing.Processes.Result;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The documented clients against a real daemon process: the Python, Node and shell examples of
 * docs/CLIENTS.md (docs/clients/), the claude shim scripts, and the MCP server. No {@code taskid}
 * command is on their PATH, so every answer below came from the daemon over its socket.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientExamplesTest {
    private static final ExecutorService THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "client-examples");
        t.setDaemon(true);
        return t;
    });

    @TempDir
    static Path tmp;

    private Path repo;
    private Path state;
    private DaemonProcess daemon;
    private final Json json = new Json();

    @BeforeAll
    void startDaemon() throws Exception {
        repo = tmp.resolve("repo");
        Files.createDirectories(repo.resolve(".git"));
        Files.writeString(repo.resolve("TASKS.md"), "| SEC-19 | existing |\n| UX-66 | existing |\n");
        state = repo.resolve(".taskid");
        daemon = DaemonProcess.start(state);
    }

    @AfterAll
    void stopDaemon() {
        if (daemon != null) {
            daemon.close();
        }
    }

    // ------------------------------------------------------------------ Python

    @Test
    void pythonExample() throws Exception {
        String python = Processes.onPath("python3").orElse(null);
        Assumptions.assumeTrue(python != null, "skipped: python3 is not on PATH");
        String script = example("taskid_client.py");

        Map<String, Object> r =
                ok(run(repo, python, script, "PERF", "3", "--key", "py-1", "--purpose", "python example"));
        assertEquals(List.of("PERF-1", "PERF-2", "PERF-3"), r.get("ids"));
        assertEquals(2L, r.get("id"), "the request id is echoed");
        assertFalse(r.containsKey("mode"), "answered by the daemon itself, not the taskid command");
        Map<String, Object> again = ok(run(repo, python, script, "PERF", "3", "--key", "py-1"));
        assertEquals(r.get("ids"), again.get("ids"), "same key: same IDs");
        assertEquals(true, again.get("replayed"));

        Result reused = run(repo, python, script, "PERF", "1", "--key", "py-1");
        assertEquals(3, reused.status(), "the taskid command's status for KEY_REUSED: " + reused);
        assertTrue(reused.stderr().startsWith("KEY_REUSED: "), reused::toString);
        Result bad = run(repo, python, script, "FOO");
        assertEquals(3, bad.status());
        assertTrue(bad.stderr().startsWith("INVALID_PREFIX: Invalid prefix \"FOO\". Valid: SEC"), bad::toString);
        assertEquals(2, run(repo, python, script).status(), "usage");

        // As a library: the connection object, pipelining-free calls, errors as exceptions.
        Result lib = run(
                repo,
                python,
                "-c",
                String.join(
                        "\n",
                        "import json, sys",
                        "sys.path.insert(0, "
                                + pyString(Path.of(script).getParent().toString()) + ")",
                        "import taskid_client as t",
                        "with t.Connection(t.socket_path(t.state_dir())) as c:",
                        "    ids = c.call('reserve', prefix='DOC', count=2)['ids']",
                        "    v = c.call('validate', ids=ids + ['DOC-999'])",
                        "    try:",
                        "        c.call('reserve', prefix='DOC', count=0)",
                        "    except t.TaskIdError as e:",
                        "        err = [e.code, e.retry]",
                        "print(json.dumps({'ids': ids, 'all': v['allIssued'], 'err': err}))"));
        assertEquals(0, lib.status(), lib::toString);
        assertEquals(
                "{\"ids\": [\"DOC-1\", \"DOC-2\"], \"all\": false, \"err\": [\"INVALID_COUNT\", false]}",
                lib.stdout().trim());
    }

    // -------------------------------------------------------------------- Node

    @Test
    void nodeExample() throws Exception {
        String node = Processes.onPath("node").orElse(null);
        Assumptions.assumeTrue(node != null, "skipped: node is not on PATH");
        String script = example("taskid-client.js");

        Map<String, Object> r =
                ok(run(repo, node, script, "ARCH", "2", "--key", "node-1", "--purpose", "node example"));
        assertEquals(List.of("ARCH-1", "ARCH-2"), r.get("ids"));
        assertFalse(r.containsKey("mode"), "answered by the daemon itself");
        assertEquals(
                r.get("ids"),
                ok(run(repo, node, script, "ARCH", "2", "--key", "node-1")).get("ids"));
        Result reused = run(repo, node, script, "ARCH", "5", "--key", "node-1");
        assertEquals(3, reused.status(), "the taskid command's status for KEY_REUSED");
        assertTrue(reused.stderr().startsWith("KEY_REUSED: "), reused::toString);
        Result bad = run(repo, node, script, "FOO");
        assertEquals(3, bad.status());
        assertTrue(bad.stderr().startsWith("INVALID_PREFIX: Invalid prefix \"FOO\""), bad::toString);

        // As a library: requests pipelined on one connection come back in order.
        Result lib = run(
                repo,
                node,
                "-e",
                String.join(
                        "\n",
                        "const t = require(" + jsString(script) + ");",
                        "(async () => {",
                        "  const c = await t.Connection.open(t.socketPath(t.stateDir()));",
                        "  const rs = await Promise.all([1, 2, 3, 4, 5].map(() => c.call('reserve', { prefix: 'FIN' })));",
                        "  let err;",
                        "  try { await c.call('reserve', { prefix: 'nope' }); } catch (e) { err = [e.code, e.retry]; }",
                        "  c.close();",
                        "  console.log(JSON.stringify({ ids: rs.map((r) => r.ids[0]), err }));",
                        "})();"));
        assertEquals(0, lib.status(), lib::toString);
        assertEquals(
                "{\"ids\":[\"FIN-1\",\"FIN-2\",\"FIN-3\",\"FIN-4\",\"FIN-5\"],\"err\":[\"INVALID_PREFIX\",false]}",
                lib.stdout().trim());
    }

    // ------------------------------------------------------------------- shell

    @Test
    void shellExample() throws Exception {
        Assumptions.assumeTrue(
                Processes.onPath("socat").isPresent() && Processes.onPath("jq").isPresent(),
                "skipped: the shell example needs socat and jq on PATH (apt-get install socat jq)");
        String script = example("taskid-reserve.sh");
        Result r = run(repo, "sh", script, "DRY", "2", "sh-1");
        assertEquals(0, r.status(), r::toString);
        assertEquals("DRY-1\nDRY-2\n", r.stdout());
        assertEquals(
                "DRY-1\nDRY-2\n", run(repo, "sh", script, "DRY", "2", "sh-1").stdout(), "same key: same IDs");
        Result bad = run(repo, "sh", script, "FOO");
        assertEquals(3, bad.status(), "INVALID_PREFIX: the taskid command's status (README \"Exit status\"): " + bad);
        assertTrue(bad.stderr().startsWith("INVALID_PREFIX: Invalid prefix \"FOO\""), bad::toString);
        assertEquals(2, run(repo, "sh", script, "DRY", "many").status());
    }

    /** What socat and nc -N do: send, shut down the write side, read to the end. */
    @Test
    @org.junit.jupiter.api.Timeout(30) // a daemon that never closes would block the read forever
    void halfClosedClientGetsEveryAnswerThenTheClose() throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(state.resolve("daemon.sock")));
            ch.write(ByteBuffer.wrap(("{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,\"op\":\"reserve\",\"prefix\":\"OPS\"}\n")
                    .getBytes(StandardCharsets.UTF_8)));
            ch.shutdownOutput();
            String answers =
                    new String(java.nio.channels.Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
            String[] lines = answers.split("\n");
            assertEquals(2, lines.length, answers);
            assertTrue(lines[0].startsWith("{\"id\":1,\"ok\":true"), answers);
            assertTrue(lines[1].startsWith("{\"id\":2,\"ok\":true") && lines[1].contains("\"ids\":[\"OPS-"), answers);
        }
    }

    // ------------------------------------------------------ shims and MCP server

    @Test
    void claudeShimScriptsTalkToTheDaemon() throws Exception {
        String node = Processes.onPath("node").orElse(null);
        Assumptions.assumeTrue(node != null, "skipped: node is not on PATH");
        try (TaskIds ids = TaskIds.open(StateDir.locate(repo, null), TaskIds.Options.DEFAULT)) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(
                    0,
                    Shims.command(
                            List.of("install", "claude"),
                            null,
                            ids,
                            repo,
                            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                            new PrintStream(err, true, StandardCharsets.UTF_8)),
                    err::toString);
        }
        String script = repo.resolve(".claude/scripts/reserve-task-ids.js").toString();
        Result r = run(repo, node, script, "UX", "2");
        assertEquals(0, r.status(), r::toString);
        assertTrue(
                r.stdout().matches("\\{\"ids\":\\[\"UX-67\",\"UX-68\"],\"reservedAt\":\"[0-9T:.-]+Z\"}\n"),
                r::toString);
        assertEquals("", r.stderr());
        Result bad = run(repo, node, script, "FOO");
        assertEquals(1, bad.status());
        assertEquals(
                "❌ Error: Invalid prefix \"FOO\". Valid: SEC, PERF, UX, TEST, DEV, ARCH, FIN, DRY, DOC, DS, MKT, CNT,"
                        + " INFRA, OPS\n",
                bad.stderr());
        Result init = run(
                repo,
                node,
                repo.resolve(".claude/scripts/init-task-counters.js").toString());
        assertEquals(0, init.status(), init::toString);
        assertTrue(init.stdout().startsWith("✅ Initialized counters from 2 tasks:\n   SEC      → "), init::toString);
    }

    @Test
    void mcpServerGoesThroughTheDaemon() throws Exception {
        String input = String.join(
                "\n",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
                        + "\"capabilities\":{},\"clientInfo\":{\"name\":\"daemon-test\",\"version\":\"1\"}}}",
                "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"reserve_task_ids\","
                        + "\"arguments\":{\"prefix\":\"MKT\",\"count\":2}}}",
                "");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status;
        try (TaskIds ids = TaskIds.open(StateDir.of(state), TaskIds.Options.DEFAULT)) {
            status = McpServer.serve(
                    ids,
                    List.of(),
                    Map.of(),
                    new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        }
        assertEquals(0, status);
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(2, lines.length);
        String text = lines[1];
        assertTrue(text.contains("\"structuredContent\":{\"ids\":[\"MKT-1\",\"MKT-2\"]"), text);
        assertTrue(text.contains("\"mode\":\"daemon\""), text);
    }

    @Test
    void manyExampleClientsAtOnceGetDistinctIds() throws Exception {
        String python = Processes.onPath("python3").orElse(null);
        String node = Processes.onPath("node").orElse(null);
        Assumptions.assumeTrue(python != null && node != null, "skipped: needs python3 and node");
        List<CompletableFuture<Result>> calls = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            List<String> cmd = i % 2 == 0
                    ? List.of(python, example("taskid_client.py"), "CNT", "2")
                    : List.of(node, example("taskid-client.js"), "CNT", "2");
            calls.add(CompletableFuture.supplyAsync(() -> run(repo, cmd.toArray(String[]::new)), THREADS));
        }
        Set<Object> all = new HashSet<>();
        for (CompletableFuture<Result> c : calls) {
            all.addAll((List<?>) ok(c.get(60, TimeUnit.SECONDS)).get("ids"));
        }
        assertEquals(24, all.size(), "no duplicates");
        for (int n = 1; n <= 24; n++) {
            assertTrue(all.contains("CNT-" + n), "no gaps");
        }
    }

    // ----------------------------------------------------------------- helpers

    private Map<String, Object> ok(Result r) throws JsonException {
        assertEquals(0, r.status(), r::toString);
        byte[] line = r.stdout().trim().getBytes(StandardCharsets.UTF_8);
        return json.readObject(line, 0, line.length);
    }

    private static String example(String name) {
        return Path.of(System.getProperty("basedir", ""))
                .toAbsolutePath()
                .getParent()
                .resolve("docs/clients")
                .resolve(name)
                .toString();
    }

    /** Runs with a PATH that has no taskid on it: only the daemon can answer. */
    private Result run(Path cwd, String... command) {
        return Processes.run(
                List.of(command),
                cwd,
                Map.of("PATH", "/usr/local/bin:/usr/bin:/bin", "TASKID_BIN", "/nonexistent/taskid"),
                Duration.ofSeconds(60));
    }

    private static String pyString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static String jsString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
