package dev.taskid.mcp;

import dev.taskid.backend.AuditTrail;
import dev.taskid.check.CollisionCheck;
import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.inbox.Inbox;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.protocol.Version;
import dev.taskid.state.Config;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code taskid mcp}: a Model Context Protocol server on stdio. Newline-delimited JSON-RPC 2.0
 * (the MCP stdio transport), a handful of methods (initialize, ping, tools/list, tools/call),
 * written with Jackson's streaming API rather than the MCP Java SDK: the SDK brings Jackson 3
 * databind, Reactor and a schema validator (6.3 MB, 13 jars) and took 0.57 s to answer
 * initialize, against 0.11 s for this class (docs/CLIENTS.md has the figures).
 *
 * <p>stdout carries protocol frames only; every diagnostic goes to stderr. Requests are
 * answered one at a time, in order. Tool calls go through {@link TaskIds} (daemon first,
 * file-lock fallback), never around it.
 */
public final class McpServer {
    /** Newest first. Structured tool output (outputSchema, structuredContent) exists since 2025-06-18. */
    static final List<String> PROTOCOL_VERSIONS = List.of("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05");

    private static final String STRUCTURED_SINCE = "2025-06-18";
    /** Longest message accepted; a tools/call with 10,000 IDs to validate is ~150 KB. */
    static final int MAX_MESSAGE_BYTES = 4 << 20;

    static final int PARSE_ERROR = -32700;
    static final int INVALID_REQUEST = -32600;
    static final int METHOD_NOT_FOUND = -32601;
    static final int INVALID_PARAMS = -32602;
    static final int INTERNAL_ERROR = -32603;

    private static final String INSTRUCTIONS =
            "taskid hands out unique task IDs (SEC-20, UX-67, ...) shared by every agent "
                    + "working in this repository. Before you write new tasks, call reserve_task_ids for the IDs you need "
                    + "(one call with count N for N tasks), and use exactly the IDs it returns; never derive IDs from the highest "
                    + "one in TASKS.md. Pass a key that identifies your request so that retries return the same IDs. "
                    + "To add tasks, queue them with submit_tasks (each with its reserved ID), then call process_inbox: it appends "
                    + "the valid ones to TASKS.md and leaves rejected ones in the inbox with a reason. "
                    + "lookup_task_ids tells who reserved an ID, when and why (the audit log); check_collisions finds IDs defined "
                    + "twice or written without being reserved. On a tool error, read error.code and error.advice.";

    private final Json json = new Json();
    private final Tools tools;
    private final InputStream in;
    private final OutputStream out;
    private final PrintStream log;
    private String protocolVersion = PROTOCOL_VERSIONS.get(0);
    private String agent;

    McpServer(Tools tools, InputStream in, OutputStream out, PrintStream log) {
        this.tools = tools;
        this.in = new BufferedInputStream(in, 64 * 1024);
        this.out = out;
        this.log = log;
    }

    /**
     * Entry point for the CLI: serves until stdin ends, then returns the exit status. Guards
     * stdout: anything printed through {@code System.out} meanwhile goes to stderr instead.
     */
    public static int serve(
            TaskIds ids, List<String> args, Map<String, String> env, InputStream in, PrintStream out, PrintStream err) {
        if (!args.isEmpty()) {
            throw new dev.taskid.cli.usage.UsageException(
                    "mcp takes no arguments (global options such as --dir go before it)", "[--dir PATH] mcp");
        }
        PrintStream previous = System.out;
        System.setOut(err);
        try {
            err.println("taskid mcp " + Version.CURRENT + ": serving state " + ids.stateDir() + " (daemon socket "
                    + ids.socket() + ", file-lock fallback) on stdio");
            try (Inbox inbox = new Inbox(ids, inboxLockTimeout(ids, err))) {
                Tools tools = new Tools(
                        request -> {
                            Reply reply = ids.call(request);
                            reply.notice().ifPresent(err::println);
                            return reply;
                        },
                        inbox,
                        new AuditLookup(ids.stateDir().dir(), () -> AuditTrail.open(ids.stateDir(), env, new Json())),
                        new CollisionCheck(ids, Path.of("").toAbsolutePath()));
                return new McpServer(tools, in, out, err).run();
            }
        } finally {
            System.setOut(previous);
        }
    }

    /**
     * The config's lock timeout, for the inbox tools. A client of another user's system-wide
     * daemon cannot read config.json (the daemon serves its IDs all the same): the default then.
     */
    private static Duration inboxLockTimeout(TaskIds ids, PrintStream err) {
        try {
            return Config.load(ids.stateDir().config(), new Json()).lockTimeout();
        } catch (TaskIdException e) {
            if (e.code() != ErrorCode.SYSTEM_ERROR) {
                throw e;
            }
            err.println("taskid mcp: " + e.getMessage() + "; the inbox tools wait the default lock timeout");
            return Config.defaults().lockTimeout();
        }
    }

    /** Reads messages until end of input; returns 0, or 1 if stdout broke. */
    int run() {
        try {
            byte[] line;
            while ((line = readLine()) != null) {
                Object reply = handleLine(line);
                if (reply != null) {
                    send(reply);
                }
            }
            return 0;
        } catch (IOException e) {
            log.println("taskid mcp: stopping: " + e.getMessage());
            return 1;
        }
    }

    /** The answer to one line: a response object, an array of them (batch), or null (nothing to send). */
    Object handleLine(byte[] line) {
        Object message;
        try {
            message = json.readValue(line, 0, line.length);
        } catch (JsonException e) {
            return error(null, PARSE_ERROR, "Parse error: " + firstLine(e.getMessage()), null);
        }
        if (message instanceof List<?> batch) {
            if (batch.isEmpty()) {
                return error(null, INVALID_REQUEST, "Invalid Request: empty batch", null);
            }
            List<Object> replies = new ArrayList<>();
            for (Object m : batch) {
                Object r = handle(m);
                if (r != null) {
                    replies.add(r);
                }
            }
            return replies.isEmpty() ? null : replies;
        }
        return handle(message);
    }

    @SuppressWarnings("unchecked")
    private Object handle(Object message) {
        if (!(message instanceof Map<?, ?>)) {
            return error(null, INVALID_REQUEST, "Invalid Request: expected a JSON-RPC object", null);
        }
        Map<String, Object> m = (Map<String, Object>) message;
        boolean notification = !m.containsKey("id");
        Object id = m.get("id");
        if (!(m.get("method") instanceof String method)) {
            if (m.containsKey("result") || m.containsKey("error")) {
                return null; // a response to a request of ours; we send none
            }
            return error(id, INVALID_REQUEST, "Invalid Request: no method", null);
        }
        if (!notification && !(id instanceof String || id instanceof Long || id instanceof java.math.BigInteger)) {
            return error(null, INVALID_REQUEST, "Invalid Request: id must be a string or an integer", null);
        }
        Object rawParams = m.get("params");
        if (rawParams != null && !(rawParams instanceof Map<?, ?>)) {
            return notification ? null : error(id, INVALID_PARAMS, "Invalid params: params must be an object", null);
        }
        Map<String, Object> params = rawParams == null ? Map.of() : (Map<String, Object>) rawParams;
        if (notification) {
            // notifications/initialized, notifications/cancelled, ...: nothing to answer. A
            // request sent as a notification is not executed: its result could not be delivered.
            return null;
        }
        try {
            switch (method) {
                case "initialize":
                    return result(id, initialize(params));
                case "ping":
                    return result(id, Map.of());
                case "tools/list":
                    return result(id, Json.obj("tools", tools.list(structured())));
                case "tools/call":
                    return toolsCall(id, params);
                default:
                    return error(id, METHOD_NOT_FOUND, "Method not found: " + method, null);
            }
        } catch (RuntimeException e) {
            log.println("taskid mcp: internal error in " + method + ":");
            e.printStackTrace(log);
            return error(id, INTERNAL_ERROR, "Internal error: " + e, null);
        }
    }

    private Map<String, Object> initialize(Map<String, Object> params) {
        Object requested = params.get("protocolVersion");
        protocolVersion = requested instanceof String v && PROTOCOL_VERSIONS.contains(v) ? v : PROTOCOL_VERSIONS.get(0);
        if (params.get("clientInfo") instanceof Map<?, ?> info && info.get("name") instanceof String name) {
            agent = name.length() > 100 ? name.substring(0, 100) : name;
            log.println("taskid mcp: client " + name + " " + info.get("version") + ", protocol " + protocolVersion
                    + (protocolVersion.equals(requested) ? "" : " (asked for " + requested + ")"));
        }
        return Json.obj(
                "protocolVersion",
                protocolVersion,
                "capabilities",
                Json.obj("tools", Json.obj("listChanged", false)),
                "serverInfo",
                Json.obj("name", "taskid", "title", "taskid: unique task IDs", "version", Version.CURRENT),
                "instructions",
                INSTRUCTIONS);
    }

    private boolean structured() {
        return protocolVersion.compareTo(STRUCTURED_SINCE) >= 0;
    }

    @SuppressWarnings("unchecked")
    private Object toolsCall(Object id, Map<String, Object> params) {
        if (!(params.get("name") instanceof String name)) {
            return error(id, INVALID_PARAMS, "Invalid params: tools/call needs \"name\"", null);
        }
        if (!tools.exists(name)) {
            return error(
                    id,
                    INVALID_PARAMS,
                    "Unknown tool: " + name + " (known: " + String.join(", ", tools.names()) + ")",
                    null);
        }
        Object rawArgs = params.get("arguments");
        if (rawArgs != null && !(rawArgs instanceof Map<?, ?>)) {
            return error(id, INVALID_PARAMS, "Invalid params: \"arguments\" must be an object", null);
        }
        Map<String, Object> args = rawArgs == null ? Map.of() : (Map<String, Object>) rawArgs;
        var wrong = tools.checkArguments(name, args);
        if (wrong.isPresent()) {
            // Arguments that break the tool's inputSchema are a protocol error (MCP), not a tool result.
            return error(
                    id,
                    INVALID_PARAMS,
                    "Invalid params: " + name + ": " + wrong.get().message(),
                    Json.obj("argument", wrong.get().argument()));
        }
        Tools.Outcome outcome;
        try {
            outcome = tools.call(name, args, agent);
        } catch (RuntimeException e) {
            log.println("taskid mcp: " + name + " failed:");
            e.printStackTrace(log);
            outcome = Tools.error(ErrorCode.SYSTEM_ERROR, "unexpected failure: " + e, true, Map.of());
        }
        Map<String, Object> result = new LinkedHashMap<>();
        // The serialized JSON as text, for clients and models that read text only.
        result.put("content", List.of(Json.obj("type", "text", "text", json.writeString(outcome.result()))));
        if (structured() && !outcome.isError()) {
            result.put("structuredContent", outcome.result());
        }
        result.put("isError", outcome.isError());
        return result(id, result);
    }

    // ----------------------------------------------------------------- framing

    private static Map<String, Object> result(Object id, Object result) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("jsonrpc", "2.0");
        m.put("id", id);
        m.put("result", result);
        return m;
    }

    private static Map<String, Object> error(Object id, int code, String message, Object data) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("jsonrpc", "2.0");
        m.put("id", id);
        m.put("error", Json.obj("code", code, "message", message, "data", data));
        return m;
    }

    private void send(Object message) throws IOException {
        byte[] body = json.write(message);
        byte[] frame = new byte[body.length + 1];
        System.arraycopy(body, 0, frame, 0, body.length);
        frame[body.length] = '\n';
        out.write(frame);
        out.flush();
    }

    /**
     * The next non-blank line without its terminator, or null at end of input. A line longer
     * than {@link #MAX_MESSAGE_BYTES} is skipped and answered with a parse error.
     */
    private byte[] readLine() throws IOException {
        while (true) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
            boolean tooLong = false;
            int b;
            while ((b = in.read()) != -1 && b != '\n') {
                if (line.size() < MAX_MESSAGE_BYTES) {
                    line.write(b);
                } else {
                    tooLong = true;
                }
            }
            if (b == -1 && line.size() == 0) {
                return null;
            }
            if (tooLong) {
                send(error(
                        null, PARSE_ERROR, "Parse error: message longer than " + MAX_MESSAGE_BYTES + " bytes", null));
                continue;
            }
            byte[] bytes = line.toByteArray();
            int end = bytes.length;
            while (end > 0 && (bytes[end - 1] == '\r' || bytes[end - 1] == ' ' || bytes[end - 1] == '\t')) {
                end--;
            }
            if (end == 0) {
                if (b == -1) {
                    return null;
                }
                continue;
            }
            return end == bytes.length ? bytes : java.util.Arrays.copyOf(bytes, end);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable input";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
