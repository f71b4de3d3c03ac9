package dev.taskid.mcp;

import dev.taskid.check.CheckCommand;
import dev.taskid.check.CollisionCheck;
import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.inbox.Inbox;
import dev.taskid.inbox.InboxCommand;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.json.Timestamps;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The MCP tools and what they do: each call becomes one protocol request sent through the
 * client library (daemon first, file-lock fallback), never around it. Results carry the same
 * fields as the CLI's {@code --verbose} JSON; failures become tool errors ({@code isError})
 * carrying the stable error code, the message and advice.
 */
final class Tools {
    static final String RESERVE = "reserve_task_ids";
    static final String VALIDATE = "validate_task_ids";
    static final String SHOW = "show_counters";
    static final String PROCESS_INBOX = "process_inbox";
    static final String SUBMIT = "submit_tasks";
    static final String LOOKUP = "lookup_task_ids";
    static final String CHECK = "check_collisions";
    /** A finding lists at most this many places (an ID pasted a thousand times is one finding). */
    static final int MAX_OCCURRENCES = 20;

    private final List<Map<String, Object>> definitions;
    private final Function<Request, Reply> backend;
    private final Inbox inbox;
    private final AuditLookup audit;
    private final CollisionCheck check;

    /**
     * {@code backend} answers one request, normally {@code TaskIds::call}; the others are what
     * {@code taskid inbox}, {@code taskid log} and {@code taskid check} work with, on the same state.
     */
    Tools(Function<Request, Reply> backend, Inbox inbox, AuditLookup audit, CollisionCheck check) {
        this.backend = backend;
        this.inbox = inbox;
        this.audit = audit;
        this.check = check;
        this.definitions = load();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> load() {
        try (InputStream in = Tools.class.getResourceAsStream("tools.json")) {
            if (in == null) {
                throw new IllegalStateException("tools.json missing from the class path");
            }
            byte[] bytes = in.readAllBytes();
            return (List<Map<String, Object>>) new Json().readValue(bytes, 0, bytes.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (JsonException e) {
            throw new IllegalStateException("tools.json: " + e.getMessage(), e);
        }
    }

    /** The tool list; without structured output (protocol before 2025-06-18) no outputSchema. */
    List<Map<String, Object>> list(boolean structured) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> d : definitions) {
            Map<String, Object> copy = new LinkedHashMap<>(d);
            if (!structured) {
                copy.remove("outputSchema");
                copy.remove("title");
            }
            out.add(copy);
        }
        return out;
    }

    boolean exists(String name) {
        return names().contains(name);
    }

    /** The tools' names, in the order of the tool table (tools.json). */
    List<String> names() {
        return definitions.stream().map(d -> String.valueOf(d.get("name"))).toList();
    }

    /** What is wrong with {@code args} for tool {@code name} (which exists), checked against its inputSchema. */
    @SuppressWarnings("unchecked")
    java.util.Optional<ToolArguments.Problem> checkArguments(String name, Map<String, Object> args) {
        Map<String, Object> d = definitions.stream()
                .filter(t -> name.equals(t.get("name")))
                .findFirst()
                .orElseThrow();
        return ToolArguments.check((Map<String, Object>) d.get("inputSchema"), args);
    }

    /** What a tool call produced: the structured result, or a failure. */
    record Outcome(Map<String, Object> result, boolean isError) {}

    /** Runs a tool. Never throws for bad arguments or refused requests: those are tool errors. */
    Outcome call(String name, Map<String, Object> args, String agent) {
        try {
            switch (name) {
                case RESERVE:
                    return reserve(args, agent);
                case VALIDATE:
                    return validate(args);
                case SHOW:
                    return show(args);
                case PROCESS_INBOX:
                    return processInbox(args);
                case SUBMIT:
                    return submit(args);
                case LOOKUP:
                    return lookup(args);
                case CHECK:
                    return check(args);
                default:
                    throw new IllegalArgumentException("unknown tool " + name);
            }
        } catch (TaskIdException e) {
            return error(e.code(), e.getMessage(), e.code().retryByDefault(), e.details());
        }
    }

    private Outcome reserve(Map<String, Object> args, String agent) {
        String prefix = string(args, "prefix");
        long count = integer(args, "count", 1);
        Reply reply = backend.apply(
                new Request.Reserve(null, prefix, count, string(args, "purpose"), agent, string(args, "key")));
        if (reply.response() instanceof Response.Failure f) {
            return error(f);
        }
        Response.Reserved r = (Response.Reserved) reply.response();
        // The fields and order of `taskid reserve --verbose`.
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ids", r.ids());
        m.put("reservedAt", Timestamps.format(r.reservedAt()));
        m.put("prefix", r.prefix());
        m.put("numbers", r.numbers());
        m.put("previous", r.previous());
        m.put("counter", r.counter());
        m.put("next", r.next());
        m.put("replayed", r.replayed());
        m.put("mode", reply.mode().wireName());
        m.put("lockWaitMs", reply.lockWaitMillis());
        return new Outcome(m, false);
    }

    @SuppressWarnings("unchecked")
    private Outcome validate(Map<String, Object> args) {
        List<String> ids = (List<String>) args.get("ids"); // checked against the schema: strings, at least one
        Reply reply = TaskIds.validateAll(ids, backend);
        if (reply.response() instanceof Response.Failure f) {
            return error(f);
        }
        Response.Validation r = (Response.Validation) reply.response();
        List<Map<String, Object>> results = new ArrayList<>();
        for (Response.Validation.Check c : r.results()) {
            results.add(Json.obj("id", c.id(), "issued", c.issued(), "reason", c.reason()));
        }
        return new Outcome(
                Json.obj(
                        "allIssued",
                        r.allIssued(),
                        "results",
                        results,
                        "mode",
                        reply.mode().wireName()),
                false);
    }

    private Outcome show(Map<String, Object> args) {
        Reply reply = backend.apply(new Request.Peek(null, string(args, "prefix")));
        if (reply.response() instanceof Response.Failure f) {
            return error(f);
        }
        Response.Counters r = (Response.Counters) reply.response();
        return new Outcome(
                Json.obj(
                        "counters",
                        new LinkedHashMap<>(r.counters()),
                        "mode",
                        reply.mode().wireName()),
                false);
    }

    /** The fields of {@code taskid inbox process --json}; rejected tasks are a result, not a tool error. */
    private Outcome processInbox(Map<String, Object> args) {
        return new Outcome(InboxCommand.fields(inbox.process(Boolean.TRUE.equals(args.get("retry")))), false);
    }

    /** The fields of {@code taskid inbox submit --json}; the tasks are checked as the CLI checks them. */
    private Outcome submit(Map<String, Object> args) {
        List<?> tasks = (List<?>) args.get("tasks"); // checked against the schema: 1 to 100 objects with id and title
        return new Outcome(InboxCommand.fields(inbox.submit(InboxCommand.tasks(tasks, "tasks"))), false);
    }

    /** The audit log's entries for each query; an unknown prefix with no history is INVALID_PREFIX, as for {@code taskid log}. */
    @SuppressWarnings("unchecked")
    private Outcome lookup(Map<String, Object> args) {
        List<AuditLookup.Query> queries = ((List<String>) args.get("queries"))
                .stream().map(AuditLookup.Query::parse).toList();
        Map<String, Object> found = audit.lookup(queries, (int) integer(args, "limit", 20));
        Map<String, Long> counters = null;
        for (Object r : (List<?>) found.get("results")) {
            Map<String, Object> result = (Map<String, Object>) r;
            if ((Long) result.get("matched") == 0) {
                counters = counters != null ? counters : counters();
                if (!counters.containsKey((String) result.get("prefix"))) {
                    List<String> valid = List.copyOf(counters.keySet());
                    return error(
                            ErrorCode.INVALID_PREFIX,
                            "Invalid prefix \"" + result.get("prefix") + "\" in \"" + result.get("query")
                                    + "\". Valid: " + String.join(", ", valid),
                            false,
                            Map.of("valid", valid));
                }
            }
        }
        return new Outcome(found, false);
    }

    /** The current counters (their keys: the valid prefixes), through the backend. */
    private Map<String, Long> counters() {
        Reply reply = backend.apply(new Request.Peek(null, null));
        if (reply.response() instanceof Response.Failure f) {
            throw new TaskIdException(f.code(), f.message(), f.details(), null);
        }
        return ((Response.Counters) reply.response()).counters();
    }

    /**
     * {@code taskid check --json} without {@code --fix}: read-only. Raising counters from what a
     * file says is a human's call (an agent could otherwise burn a prefix's numbers by writing
     * one huge ID). Files must lie inside the work tree; at most {@code limit} findings are listed.
     */
    @SuppressWarnings("unchecked")
    private Outcome check(Map<String, Object> args) {
        List<String> files = args.get("files") == null ? List.of() : (List<String>) args.get("files");
        files.forEach(check::requireInWorkTree);
        CollisionCheck.Report report = check.run(
                files, Boolean.TRUE.equals(args.get("allRefs")), false, Boolean.TRUE.equals(args.get("staged")));
        long limit = integer(args, "limit", 100);
        List<Object> findings = new ArrayList<>();
        for (CollisionCheck.Finding f : report.findings()) {
            if (findings.size() == limit) {
                break;
            }
            Map<String, Object> m = CheckCommand.fields(f);
            List<?> where = (List<?>) m.get("occurrences");
            if (where.size() > MAX_OCCURRENCES) {
                m.put("occurrences", where.subList(0, MAX_OCCURRENCES));
                m.put("occurrencesOmitted", (long) (where.size() - MAX_OCCURRENCES));
            }
            findings.add(m);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", report.findings().isEmpty());
        m.put("findings", findings);
        m.put("totalFindings", (long) report.findings().size());
        m.put("truncated", findings.size() < report.findings().size());
        m.put("sources", report.sources());
        m.put("notes", report.notes());
        return new Outcome(m, false);
    }

    // ------------------------------------------------------------------ errors

    private static Outcome error(Response.Failure f) {
        return error(f.code(), f.message(), f.retry(), f.details());
    }

    static Outcome error(ErrorCode code, String message, boolean retry, Map<String, Object> details) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("code", code.name());
        e.put("message", message);
        e.put("retry", retry);
        e.put("advice", advice(code));
        e.put("details", details == null ? Map.of() : details);
        return new Outcome(Json.obj("error", e), true);
    }

    /** What an agent should do next, per code. */
    static String advice(ErrorCode code) {
        switch (code) {
            case BAD_REQUEST:
                return "Fix the arguments (see the tool's input schema) and call again.";
            case INVALID_PREFIX:
                return "Use one of the prefixes in details.valid. A new prefix must be added by a human to "
                        + ".taskid/config.json \"extraPrefixes\".";
            case INVALID_COUNT:
                return "count must be a whole number from 1 to details.max; split larger batches.";
            case INVALID_ID:
                return "Task IDs look like PREFIX-NUMBER, e.g. SEC-20.";
            case KEY_REUSED:
                return "This key was used for a different request: repeat the original prefix and count to get its IDs "
                        + "again, or use a new key.";
            case LOCK_TIMEOUT:
            case BUSY:
            case DAEMON_UNAVAILABLE:
            case BACKEND_UNAVAILABLE:
                return "Temporary: retry in a few seconds with the same key (the same key never burns new IDs).";
            case SYSTEM_ERROR:
                return "Nothing was changed. Retry with the same key once the disk problem is fixed; tell a human if it persists.";
            case STATE_CORRUPT:
            case CONFIG_INVALID:
                return "Stop and tell a human: the message says how to repair it. Do not invent IDs meanwhile.";
            case COUNTER_OVERFLOW:
            case COUNTER_DECREASE:
            case NUMBER_CONFLICT:
                return "Tell a human; do not invent IDs meanwhile.";
            case FORBIDDEN:
                return "This user may not use the taskid daemon; a human can add the uid to allowedUids in .taskid/config.json.";
            case PROTOCOL_MISMATCH:
                return "Tell a human: the taskid daemon and this taskid differ in version; restart the daemon.";
            default:
                return "See the message.";
        }
    }

    // --------------------------------------------------------------- arguments

    // Arguments were checked against the tool's inputSchema (ToolArguments) before the call.

    private static String string(Map<String, Object> args, String name) {
        return (String) args.get(name);
    }

    private static long integer(Map<String, Object> args, String name, long absent) {
        Object v = args.get(name);
        return v == null ? absent : (Long) v;
    }
}
