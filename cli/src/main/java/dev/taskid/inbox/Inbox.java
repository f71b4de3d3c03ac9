package dev.taskid.inbox;

import com.fasterxml.jackson.core.JsonFactory;
import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskId;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.Config;
import dev.taskid.state.DurableFiles;
import dev.taskid.state.StateDir;
import dev.taskid.state.StateLock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The inbox of seed 000 (section 4): agents submit tasks with IDs they reserved, and
 * {@link #process} moves the valid ones into TASKS.md as table rows.
 *
 * <p>Files: {@code .taskid/inbox.json} (submits go there) and, when present, the seed's
 * {@code .claude/task-inbox.json} (processed the same way); TASKS.md at the project root.
 * All three are written only under the <b>inbox lock</b> ({@code .taskid/inbox.lock}, an OS
 * lock separate from the counters lock, which a daemon holds for its whole life), each with
 * tmp + fsync + rename + directory fsync. TASKS.md is written before the inbox: after a crash
 * between the two, the next run finds the tasks' rows already in TASKS.md, identical, and only
 * removes them from the inbox. So no task is lost or added twice.
 *
 * <p>Counters are only read, through {@link TaskIds} (daemon or file lock), so both modes give
 * the same verdicts.
 *
 * <p>Use one instance per state directory per process (like {@link StateLock}, which it keeps
 * open until {@link #close()}): closing a second descriptor of the lock file would silently
 * drop the process's lock.
 */
public final class Inbox implements AutoCloseable {
    public static final String FILE = "inbox.json";
    public static final String LOCK = "inbox.lock";
    public static final String SEED_FILE = ".claude/task-inbox.json";
    public static final String TASKS_FILE = "TASKS.md";
    /** Validate requests carry at most this many IDs (the protocol's limit). */
    /** How often to redo a run when TASKS.md changed under us (a writer without the lock). */
    private static final int MAX_ATTEMPTS = 20;

    private final TaskIds ids;
    private final StateDir dir;
    private final Duration lockTimeout;
    private final Json json = new Json();
    private final JsonFactory factory = json.factory();
    private StateLock lock;

    public Inbox(TaskIds ids, Duration lockTimeout) {
        this.ids = ids;
        this.dir = ids.stateDir();
        this.lockTimeout = lockTimeout;
    }

    /** The inbox submits go to. */
    public Path file() {
        return dir.dir().resolve(FILE);
    }

    /** The seed scripts' inbox, processed too when it exists. */
    public Path seedFile() {
        return dir.projectRoot().resolve(SEED_FILE);
    }

    public Path tasksFile() {
        return dir.projectRoot().resolve(TASKS_FILE);
    }

    public Path lockFile() {
        return dir.dir().resolve(LOCK);
    }

    // ------------------------------------------------------------------ submit

    /** What a submit did: IDs queued now, and IDs whose identical task was already queued. */
    public record Submitted(List<String> queued, List<String> alreadyQueued, Path inbox) {}

    /**
     * Appends {@code tasks} to {@code .taskid/inbox.json} under the inbox lock. A task equal to
     * one already queued is not queued twice (a retried submit is harmless); one equal to a task
     * rejected earlier clears that task's reason. A {@code reason} field is dropped: submitting
     * asks for processing.
     */
    public Submitted submit(List<Map<String, Object>> tasks) {
        List<String> queued = new ArrayList<>();
        List<String> already = new ArrayList<>();
        try (StateLock.Held held = lock("inbox submit")) {
            InboxFile.Content content = InboxFile.read(file(), factory);
            List<Map<String, Object>> list = new ArrayList<>();
            content.entries().forEach(e -> list.add(e.task()));
            boolean changed = false;
            for (Map<String, Object> task : tasks) {
                Map<String, Object> clean = InboxFile.withoutReason(task);
                int at = -1;
                for (int i = 0; i < list.size() && at < 0; i++) {
                    at = InboxFile.sameTask(list.get(i), clean) ? i : -1;
                }
                if (at >= 0 && !list.get(at).containsKey(InboxFile.REASON)) {
                    already.add(String.valueOf(clean.get("id")));
                    continue;
                }
                // A task rejected earlier and submitted again is queued again in its place, not twice.
                if (at >= 0) {
                    list.set(at, clean);
                } else {
                    list.add(clean);
                }
                queued.add(String.valueOf(clean.get("id")));
                changed = true;
            }
            if (changed) {
                InboxFile.write(file(), content.top(), list, factory);
            }
        }
        return new Submitted(queued, already, file());
    }

    // ------------------------------------------------------------------ process

    /** A task left in an inbox with its reason; {@code line} is where its object starts. */
    public record Rejected(String id, String reason, Path file, int line) {}

    /**
     * What a run did: IDs added to TASKS.md, IDs whose identical row was already there (removed
     * from the inbox), tasks rejected now, and how many earlier rejections still wait for a fix
     * (not looked at without {@code retry}).
     */
    public record Processed(
            List<String> added,
            List<String> alreadyPresent,
            List<Rejected> rejected,
            int waiting,
            Path tasksFile,
            List<Path> inboxes) {
        public boolean clean() {
            return rejected.isEmpty();
        }
    }

    private enum Verdict {
        ADD,
        PRESENT,
        REJECT
    }

    private record Decision(
            InboxFile.Content source, InboxFile.Entry entry, Verdict verdict, String row, String reason) {}

    /**
     * Validates every pending task (and, with {@code retry}, every earlier rejected one) and
     * appends the valid ones to TASKS.md; rejected ones stay in their inbox with a reason.
     */
    public Processed process(boolean retry) {
        try (StateLock.Held held = lock("inbox process")) {
            List<InboxFile.Content> inboxes = new ArrayList<>();
            inboxes.add(InboxFile.read(file(), factory));
            if (Files.exists(seedFile())) {
                inboxes.add(InboxFile.read(seedFile(), factory));
            }
            List<Path> paths = inboxes.stream()
                    .filter(InboxFile.Content::exists)
                    .map(InboxFile.Content::path)
                    .toList();
            List<Candidate> candidates = new ArrayList<>();
            int waiting = 0;
            for (InboxFile.Content c : inboxes) {
                for (InboxFile.Entry e : c.entries()) {
                    if (e.reason() == null || retry) {
                        candidates.add(new Candidate(c, e));
                    } else {
                        waiting++;
                    }
                }
            }
            if (candidates.isEmpty()) {
                return new Processed(List.of(), List.of(), List.of(), waiting, tasksFile(), paths);
            }
            Map<String, Long> counters = peek();
            Map<String, Response.Validation.Check> verdicts = validate(candidates);
            Config config = Config.load(dir.config(), json);
            for (int attempt = 1; ; attempt++) {
                String before = readTasks();
                List<Decision> decisions = decide(candidates, before, counters, verdicts, config);
                List<String> rows = decisions.stream()
                        .filter(d -> d.verdict() == Verdict.ADD)
                        .map(Decision::row)
                        .toList();
                if (!rows.isEmpty()) {
                    String after = TasksMarkdown.insertRows(before, rows, counters.keySet());
                    if (!readTasks().equals(before)) {
                        if (attempt >= MAX_ATTEMPTS) {
                            throw new TaskIdException(
                                    ErrorCode.LOCK_TIMEOUT,
                                    tasksFile()
                                            + " keeps changing while the inbox is processed (someone writes it without taskid's"
                                            + " inbox lock); nothing was added, retry",
                                    Map.of("file", tasksFile().toString()),
                                    null);
                        }
                        continue;
                    }
                    writeTasks(after);
                }
                updateInboxes(inboxes, decisions);
                return summary(decisions, waiting, paths);
            }
        }
    }

    private record Candidate(InboxFile.Content source, InboxFile.Entry entry) {}

    private List<Decision> decide(
            List<Candidate> candidates,
            String tasks,
            Map<String, Long> counters,
            Map<String, Response.Validation.Check> verdicts,
            Config config) {
        Set<String> prefixes = counters.keySet();
        Map<TaskId, TasksMarkdown.Definition> existing = new HashMap<>();
        for (TasksMarkdown.Definition d : TasksMarkdown.definitions(tasks, prefixes)) {
            existing.putIfAbsent(d.id(), d);
        }
        Map<TaskId, String> added = new HashMap<>();
        List<Decision> out = new ArrayList<>();
        for (Candidate c : candidates) {
            Map<String, Object> task = c.entry().identity();
            Object rawId = task.get("id");
            String reason = null;
            TaskId id = null;
            if (!(rawId instanceof String idText) || idText.isBlank()) {
                reason = "missing \"id\": reserve one with `taskid reserve PREFIX`";
            } else if (!(task.get("title") instanceof String title) || title.isBlank()) {
                reason = "missing \"title\"";
            } else {
                id = TaskId.parse(idText.trim()).orElse(null);
                Response.Validation.Check check = verdicts.get(idText.trim());
                if (id == null) {
                    reason = "Invalid task ID " + idText + ": not PREFIX-NUMBER (e.g. SEC-20)";
                } else if (!counters.containsKey(id.prefix())) {
                    reason = "Invalid prefix \"" + id.prefix() + "\" in " + idText + ". Valid: "
                            + String.join(", ", prefixes);
                } else if (check == null || !check.issued()) {
                    long counter = counters.get(id.prefix());
                    reason = id.number() > counter
                            ? "Invalid task ID " + idText + ": counter at " + config.format(id.prefix(), counter)
                                    + ". Run: taskid reserve " + id.prefix() + " to reserve IDs first."
                            : "Invalid task ID " + idText + ": " + (check == null ? "not issued" : check.reason());
                }
            }
            if (reason != null) {
                out.add(new Decision(c.source(), c.entry(), Verdict.REJECT, null, reason));
                continue;
            }
            String row = TasksMarkdown.row(withId(task, (String) rawId));
            TasksMarkdown.Definition there = existing.get(id);
            if (there != null) {
                if (there.text().trim().equals(row)) {
                    out.add(new Decision(c.source(), c.entry(), Verdict.PRESENT, row, null));
                } else {
                    out.add(new Decision(
                            c.source(),
                            c.entry(),
                            Verdict.REJECT,
                            null,
                            id + " is already in " + TASKS_FILE + " (line " + there.line() + ": "
                                    + there.text().trim() + "); reserve a new ID with `taskid reserve " + id.prefix()
                                    + "`"));
                }
            } else if (added.containsKey(id)) {
                boolean same = added.get(id).equals(row);
                out.add(new Decision(
                        c.source(),
                        c.entry(),
                        same ? Verdict.PRESENT : Verdict.REJECT,
                        row,
                        same
                                ? null
                                : id + " appears twice in the inbox with different tasks; the first one was added to "
                                        + TASKS_FILE + "; reserve a new ID with `taskid reserve " + id.prefix() + "`"));
            } else {
                added.put(id, row);
                out.add(new Decision(c.source(), c.entry(), Verdict.ADD, row, null));
            }
        }
        return out;
    }

    private static Map<String, Object> withId(Map<String, Object> task, String id) {
        Map<String, Object> m = new LinkedHashMap<>(task);
        m.put("id", id.trim());
        return m;
    }

    /**
     * Rewrites each inbox that had decisions: its current tasks (re-read: the seed's inbox may
     * be written by scripts that do not take the inbox lock) minus those added or present,
     * rejected ones with their reason, any other task untouched.
     */
    private void updateInboxes(List<InboxFile.Content> inboxes, List<Decision> decisions) {
        for (InboxFile.Content content : inboxes) {
            List<Decision> mine = new ArrayList<>(
                    decisions.stream().filter(d -> d.source() == content).toList());
            if (mine.isEmpty()) {
                continue;
            }
            InboxFile.Content now = InboxFile.read(content.path(), factory);
            List<Map<String, Object>> kept = new ArrayList<>();
            boolean changed = false;
            for (InboxFile.Entry e : now.entries()) {
                Decision match = null;
                for (Decision d : mine) {
                    if (InboxFile.sameTask(d.entry().task(), e.task())) {
                        match = d;
                        break;
                    }
                }
                if (match == null) {
                    kept.add(e.task());
                    continue;
                }
                mine.remove(match);
                if (match.verdict() == Verdict.REJECT) {
                    Map<String, Object> t = new LinkedHashMap<>(e.task());
                    changed |= !match.reason().equals(t.put(InboxFile.REASON, match.reason()));
                    kept.add(t);
                } else {
                    changed = true;
                }
            }
            if (changed) {
                InboxFile.write(content.path(), now.top(), kept, factory);
            }
        }
    }

    /** What a run did; a rejected task's line is where it stands in its inbox as rewritten. */
    private Processed summary(List<Decision> decisions, int waiting, List<Path> inboxes) {
        List<String> added = new ArrayList<>();
        List<String> present = new ArrayList<>();
        List<Rejected> rejected = new ArrayList<>();
        Map<Path, List<InboxFile.Entry>> now = new HashMap<>();
        for (Decision d : decisions) {
            String id = d.entry().id() == null
                    ? String.valueOf(d.entry().task().get("id"))
                    : d.entry().id().trim();
            switch (d.verdict()) {
                case ADD -> added.add(id);
                case PRESENT -> present.add(id);
                default -> rejected.add(new Rejected(id, d.reason(), d.source().path(), lineNow(d, now)));
            }
        }
        return new Processed(added, present, rejected, waiting, tasksFile(), inboxes);
    }

    private int lineNow(Decision d, Map<Path, List<InboxFile.Entry>> now) {
        List<InboxFile.Entry> entries = now.computeIfAbsent(
                d.source().path(),
                p -> new ArrayList<>(InboxFile.read(p, factory).entries()));
        for (int i = 0; i < entries.size(); i++) {
            if (InboxFile.sameTask(entries.get(i).task(), d.entry().task())) {
                return entries.remove(i).line();
            }
        }
        return d.entry().line();
    }

    // ------------------------------------------------------------------ helpers

    private Map<String, Long> peek() {
        Response r = ids.call(new Request.Peek(null, null)).response();
        if (r instanceof Response.Failure f) {
            throw new TaskIdException(f.code(), f.message(), f.details(), null);
        }
        return ((Response.Counters) r).counters();
    }

    private Map<String, Response.Validation.Check> validate(List<Candidate> candidates) {
        List<String> texts = new ArrayList<>();
        for (Candidate c : candidates) {
            String id = c.entry().id();
            if (id != null && !id.isBlank() && !texts.contains(id.trim())) {
                texts.add(id.trim());
            }
        }
        Map<String, Response.Validation.Check> out = new HashMap<>();
        for (Response.Validation.Check c : ids.validateAll(texts)) {
            out.put(c.id(), c);
        }
        return out;
    }

    private String readTasks() {
        try {
            return new String(Files.readAllBytes(tasksFile()), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot read " + tasksFile() + ": " + e.getMessage(), Map.of(), e);
        }
    }

    private void writeTasks(String text) {
        try {
            DurableFiles.replace(tasksFile(), text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "could not save " + tasksFile() + " (" + e
                            + "); it and the inbox are unchanged. Fix the disk (space, read-only mount, permissions) and retry.",
                    Map.of("file", tasksFile().toString()),
                    e);
        }
    }

    private StateLock.Held lock(String note) {
        try {
            dir.create();
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "cannot create state directory " + dir.dir() + ": " + e.getMessage(),
                    Map.of(),
                    e);
        }
        if (lock == null) {
            lock = new StateLock(lockFile(), Clock.systemUTC());
        }
        return lock.acquire(lockTimeout, note);
    }

    @Override
    public void close() {
        if (lock != null) {
            lock.close();
        }
    }
}
