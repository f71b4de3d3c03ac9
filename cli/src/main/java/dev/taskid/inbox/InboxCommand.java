package dev.taskid.inbox;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.options.Option;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.Config;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code taskid inbox submit [FILE]} and {@code taskid inbox process [--retry]}.
 *
 * <p>Exit status: 0 done (process: nothing rejected by this run); 1 process rejected a task (it
 * stays in the inbox with its reason); 2 usage or malformed input (nothing queued); the usual
 * statuses for errors (4 LOCK_TIMEOUT, 5 STATE_CORRUPT for an unreadable inbox, 6 SYSTEM_ERROR).
 */
public final class InboxCommand implements Command {
    public static final String SYNOPSIS = "inbox submit [FILE] | inbox process [--retry] [--json]";
    public static final String HELP =
            "submit: queue tasks for TASKS.md. Reads JSON from FILE or stdin: {\"tasks\":[...]}, an array, or one task;\n"
                    + "a task is {\"id\":\"SEC-20\",\"title\":\"...\",\"priority\":\"High\",\"source\":\"review\",\"files\":[...],\n"
                    + "\"estimate\":\"1h\",\"status\":\"ready\"} with an ID reserved first (taskid reserve). Goes to .taskid/inbox.json.\n"
                    + "process: validate every queued task (also in .claude/task-inbox.json) and append the valid ones to TASKS.md\n"
                    + "as `| ID | title | estimate | priority | status | | source |`. A task whose ID was not issued or is already\n"
                    + "in TASKS.md stays in the inbox with a \"reason\"; --retry checks such tasks again. Exit 1 if this run\n"
                    + "rejected any task.";

    private static final int OK = 0;
    private static final int REJECTED = 1;

    private static final Spec SPEC = new Spec(
            "inbox", SYNOPSIS, HELP, List.of(Option.flag("--retry", "process: check tasks rejected earlier again")));

    @Override
    public Spec spec() {
        return SPEC;
    }

    /** Runs {@code inbox} with the words after it; the lock timeout is the global option's, or the config's. */
    @Override
    public int run(Context c) {
        List<String> rest = c.rest();
        boolean json = c.json();
        boolean retry = c.flag("--retry");
        TaskIds ids = c.ids();
        PrintStream out = c.out();
        PrintStream err = c.err();
        if (rest.isEmpty() || !List.of("submit", "process").contains(rest.get(0))) {
            return usage("inbox takes submit or process");
        }
        Duration timeout = c.lockTimeout()
                .orElseGet(
                        () -> Config.load(ids.stateDir().config(), new Json()).lockTimeout());
        try (Inbox inbox = new Inbox(ids, timeout)) {
            return rest.get(0).equals("submit")
                    ? submit(inbox, rest, json, retry, c.cwd(), c.in(), out, err)
                    : process(inbox, rest, json, retry, out, err);
        }
    }

    private static int submit(
            Inbox inbox,
            List<String> rest,
            boolean json,
            boolean retry,
            Path cwd,
            InputStream stdin,
            PrintStream out,
            PrintStream err) {
        Json codec = new Json();
        if (rest.size() > 2 || retry) {
            return usage("inbox submit takes at most one FILE (default: stdin)");
        }
        byte[] input;
        String from = rest.size() == 2 && !rest.get(1).equals("-") ? rest.get(1) : null;
        try {
            input = from == null ? stdin.readAllBytes() : Files.readAllBytes(cwd.resolve(from));
        } catch (NoSuchFileException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "no such file: " + cwd.resolve(from));
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot read " + (from == null ? "stdin" : from) + ": " + e.getMessage());
        }
        List<Map<String, Object>> tasks = parseTasks(input, codec, from == null ? "stdin" : from);
        Inbox.Submitted s = inbox.submit(tasks);
        if (json) {
            out.println(new String(codec.write(g -> Json.writeValue(g, fields(s))), StandardCharsets.UTF_8));
        } else {
            out.println("queued " + s.queued().size() + " task(s) in " + s.inbox()
                    + (s.queued().isEmpty() ? "" : ": " + String.join(", ", s.queued()))
                    + (s.alreadyQueued().isEmpty() ? "" : "; already queued: " + String.join(", ", s.alreadyQueued())));
            out.println("next: taskid inbox process");
        }
        return OK;
    }

    private static int process(
            Inbox inbox, List<String> rest, boolean json, boolean retry, PrintStream out, PrintStream err) {
        Json codec = new Json();
        if (rest.size() > 1) {
            return usage("inbox process takes no arguments");
        }
        Inbox.Processed p = inbox.process(retry);
        if (json) {
            out.println(new String(
                    codec.write(g -> {
                        g.writeStartObject();
                        for (Map.Entry<String, Object> e : fields(p).entrySet()) {
                            Json.writeValue(g, e.getKey(), e.getValue());
                        }
                        g.writeEndObject();
                    }),
                    StandardCharsets.UTF_8));
        } else {
            if (!p.added().isEmpty()) {
                out.println("added to " + p.tasksFile() + ": " + String.join(", ", p.added()));
            }
            if (!p.alreadyPresent().isEmpty()) {
                out.println("already in " + p.tasksFile() + " (removed from the inbox): "
                        + String.join(", ", p.alreadyPresent()));
            }
            for (Inbox.Rejected r : p.rejected()) {
                out.println("rejected " + r.id() + " (" + r.file() + ":" + r.line() + "): " + r.reason());
            }
            out.println(
                    p.added().size() + " added, " + p.alreadyPresent().size() + " already present, "
                            + p.rejected().size() + " rejected"
                            + (p.waiting() == 0
                                    ? ""
                                    : ", " + p.waiting()
                                            + " rejected earlier still waiting in the inbox (fix them, then: taskid inbox process --retry)"));
        }
        return p.clean() ? OK : REJECTED;
    }

    /** A submit's result as JSON fields: {@code inbox submit --json} and the MCP tool {@code submit_tasks}. */
    public static Map<String, Object> fields(Inbox.Submitted s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("queued", s.queued());
        m.put("alreadyQueued", s.alreadyQueued());
        m.put("inbox", s.inbox().toString());
        return m;
    }

    /** A run's result as JSON fields: {@code inbox process --json} and the MCP tool {@code process_inbox}. */
    public static Map<String, Object> fields(Inbox.Processed p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("added", p.added());
        m.put("alreadyPresent", p.alreadyPresent());
        List<Map<String, Object>> rejected = new ArrayList<>();
        for (Inbox.Rejected r : p.rejected()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("id", r.id());
            one.put("reason", r.reason());
            one.put("file", r.file().toString());
            one.put("line", r.line());
            rejected.add(one);
        }
        m.put("rejected", rejected);
        m.put("waiting", p.waiting());
        m.put("tasksFile", p.tasksFile().toString());
        m.put("inboxes", p.inboxes().stream().map(Path::toString).toList());
        return m;
    }

    /** The tasks of a submit: {@code {"tasks":[...]}}, an array, or one task object. */
    static List<Map<String, Object>> parseTasks(byte[] input, Json codec, String from) {
        Object value;
        try {
            value = InboxFile.parseValue(input, codec.factory());
        } catch (IOException e) {
            throw bad(from + " is not valid JSON: " + firstLine(e.getMessage()));
        }
        List<?> list;
        if (value instanceof Map<?, ?> m && m.get("tasks") instanceof List<?> l) {
            list = l;
        } else if (value instanceof Map<?, ?> m && !m.containsKey("tasks")) {
            list = List.of(m);
        } else if (value instanceof List<?> l) {
            list = l;
        } else {
            throw bad(from + ": expected {\"tasks\":[...]}, an array of tasks, or one task object");
        }
        return tasks(list, from);
    }

    /**
     * The tasks of a submit, checked: each a JSON object with an {@code id} and a {@code title}
     * that are not blank; BAD_REQUEST naming {@code from} and the task otherwise.
     */
    public static List<Map<String, Object>> tasks(List<?> list, String from) {
        if (list.isEmpty()) {
            throw bad(from + ": no tasks");
        }
        List<Map<String, Object>> tasks = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> raw)) {
                throw bad(from + ": task " + (i + 1) + " is not a JSON object");
            }
            Map<String, Object> task = new LinkedHashMap<>();
            raw.forEach((k, v) -> task.put(String.valueOf(k), v));
            if (!(task.get("id") instanceof String id) || id.isBlank()) {
                throw bad(from + ": task " + (i + 1)
                        + " has no \"id\" string (reserve IDs first: taskid reserve PREFIX N)");
            }
            if (!(task.get("title") instanceof String title) || title.isBlank()) {
                throw bad(from + ": task " + (i + 1) + " (" + id + ") has no \"title\" string");
            }
            tasks.add(task);
        }
        return tasks;
    }

    private static TaskIdException bad(String message) {
        return new TaskIdException(ErrorCode.BAD_REQUEST, message + "; nothing was queued");
    }

    private static int usage(String message) {
        throw new UsageException(message, SYNOPSIS);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
