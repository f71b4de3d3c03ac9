package dev.taskid.mcp;

import dev.taskid.client.Reply;
import dev.taskid.inbox.Inbox;
import dev.taskid.inbox.InboxCommand;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.JsonLines;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
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

    private final List<Map<String, Object>> definitions;
    private final Function<Request, Reply> backend;
    private final Function<Boolean, Inbox.Processed> inbox;

    /**
     * {@code backend} answers one request, normally {@code TaskIds::call}; {@code inbox} runs
     * {@code taskid inbox process [--retry]}, normally {@link Inbox#process}.
     */
    Tools(Function<Request, Reply> backend, Function<Boolean, Inbox.Processed> inbox) {
        this.backend = backend;
        this.inbox = inbox;
        this.definitions = load();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> load() {
        try (InputStream in = Tools.class.getResourceAsStream("tools.json")) {
            if (in == null) {
                throw new IllegalStateException("tools.json missing from the class path");
            }
            byte[] bytes = in.readAllBytes();
            return (List<Map<String, Object>>) Json.parse(bytes, 0, bytes.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
        return definitions.stream().anyMatch(d -> name.equals(d.get("name")));
    }

    /** What a tool call produced: the structured result, or a failure. */
    record Outcome(Map<String, Object> result, boolean isError) {
    }

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
                default:
                    throw new IllegalArgumentException("unknown tool " + name);
            }
        } catch (BadArgument e) {
            return error(ErrorCode.BAD_REQUEST, e.getMessage(), false, Map.of());
        } catch (TaskIdException e) {
            return error(e.code(), e.getMessage(), e.code().retryByDefault(), e.details());
        }
    }

    private Outcome reserve(Map<String, Object> args, String agent) {
        String prefix = string(args, "prefix", true);
        long count = integer(args, "count", 1);
        Reply reply = backend.apply(new Request.Reserve(null, prefix, count, string(args, "purpose", false), agent,
                string(args, "key", false)));
        if (reply.response() instanceof Response.Failure f) {
            return error(f);
        }
        Response.Reserved r = (Response.Reserved) reply.response();
        // The fields and order of `taskid reserve --verbose`.
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ids", r.ids());
        m.put("reservedAt", JsonLines.timestamp(r.reservedAt()));
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

    private Outcome validate(Map<String, Object> args) {
        Object raw = args.get("ids");
        List<String> ids = new ArrayList<>();
        if (raw instanceof String s) {
            // Lenient: "SEC-1, SEC-2" or "SEC-1 SEC-2".
            for (String part : s.split("[\\s,]+")) {
                if (!part.isEmpty()) {
                    ids.add(part);
                }
            }
        } else if (raw instanceof List<?> list) {
            for (Object o : list) {
                if (!(o instanceof String s)) {
                    throw new BadArgument("\"ids\" must be an array of strings such as \"SEC-20\"");
                }
                ids.add(s);
            }
        } else {
            throw new BadArgument("\"ids\" is required: an array of task IDs such as [\"SEC-20\"]");
        }
        if (ids.isEmpty()) {
            throw new BadArgument("\"ids\" must hold at least one task ID");
        }
        Reply reply = backend.apply(new Request.Validate(null, ids));
        if (reply.response() instanceof Response.Failure f) {
            return error(f);
        }
        Response.Validation r = (Response.Validation) reply.response();
        List<Map<String, Object>> results = new ArrayList<>();
        for (Response.Validation.Check c : r.results()) {
            results.add(Json.obj("id", c.id(), "issued", c.issued(), "reason", c.reason()));
        }
        return new Outcome(Json.obj("allIssued", r.allIssued(), "results", results, "mode", reply.mode().wireName()), false);
    }

    private Outcome show(Map<String, Object> args) {
        Reply reply = backend.apply(new Request.Peek(null, string(args, "prefix", false)));
        if (reply.response() instanceof Response.Failure f) {
            return error(f);
        }
        Response.Counters r = (Response.Counters) reply.response();
        return new Outcome(Json.obj("counters", new LinkedHashMap<>(r.counters()), "mode", reply.mode().wireName()), false);
    }

    /** The fields of {@code taskid inbox process --json}; rejected tasks are a result, not a tool error. */
    private Outcome processInbox(Map<String, Object> args) {
        Object retry = args.get("retry");
        if (retry != null && !(retry instanceof Boolean)) {
            throw new BadArgument("\"retry\" must be true or false");
        }
        return new Outcome(InboxCommand.fields(inbox.apply(Boolean.TRUE.equals(retry))), false);
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

    /** A tool argument of the wrong shape. */
    private static final class BadArgument extends RuntimeException {
        BadArgument(String message) {
            super(message);
        }
    }

    private static String string(Map<String, Object> args, String name, boolean required) {
        Object v = args.get(name);
        if (v == null) {
            if (required) {
                throw new BadArgument("\"" + name + "\" is required");
            }
            return null;
        }
        if (!(v instanceof String s)) {
            throw new BadArgument("\"" + name + "\" must be a string");
        }
        return s;
    }

    private static long integer(Map<String, Object> args, String name, long absent) {
        Object v = args.get(name);
        if (v == null) {
            return absent;
        }
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 1e15) {
            return d.longValue(); // 3.0: some clients send integers as floats
        }
        if (v instanceof String s && s.trim().matches("-?\\d{1,15}")) {
            return Long.parseLong(s.trim()); // "3": models sometimes quote numbers
        }
        if (v instanceof BigInteger) {
            throw new TaskIdException(ErrorCode.INVALID_COUNT, "\"" + name + "\" is too large: " + v);
        }
        throw new TaskIdException(ErrorCode.INVALID_COUNT, "\"" + name + "\" must be a positive integer, got " + Json.writeString(v));
    }
}
