package dev.taskid.check;

import dev.taskid.client.TaskIds;
import dev.taskid.inbox.Inbox;
import dev.taskid.inbox.InboxFile;
import dev.taskid.inbox.TasksMarkdown;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskId;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The collision check behind {@code taskid check}: task IDs defined twice, IDs above their
 * counter, and (with all refs) one ID used for different tasks on different branches or
 * worktrees. What counts as a definition is {@link TasksMarkdown}'s rule; counters are read
 * through {@link TaskIds} (daemon or file lock), so both modes give the same answer.
 *
 * <p>Places looked at:
 * <ul>
 *   <li><b>here</b>: the given files (default: TASKS.md of the current work tree) and the tasks
 *       waiting in the inbox ({@code .taskid/inbox.json}, {@code .claude/task-inbox.json}; tasks
 *       already rejected with a reason are not counted: they will not reach TASKS.md as they are);</li>
 *   <li>with all refs: the same paths in every local branch ({@code git cat-file --batch}, the
 *       batch form of {@code git show REF:PATH}; nothing is checked out) and in every other work
 *       tree of the repository (read from its directory, uncommitted edits included).</li>
 * </ul>
 * Within one place, a second definition of an ID is a <b>duplicate</b>. Across places, the same
 * ID naturally appears on many branches for the same task; it is a <b>conflict</b> only when the
 * titles say it is a different task: two titles are the same task when, normalized, one contains
 * the other or they share at least half of their words (so editing a title is not a conflict).
 * Places with identical content are looked at once.
 */
public final class CollisionCheck {

    /** What kind of problem. */
    public enum Kind {
        DUPLICATE("duplicate"),
        ABOVE_COUNTER("above-counter"),
        CONFLICT("conflict");

        private final String wire;

        Kind(String wire) {
            this.wire = wire;
        }

        public String wireName() {
            return wire;
        }
    }

    /** Where an ID occurs: {@code source} is a file, {@code REF:PATH} or an inbox; line is 1-based. */
    public record Occurrence(String source, int line, String id, String title) {}

    /** One problem and every place it shows. */
    public record Finding(Kind kind, TaskId id, String message, List<Occurrence> occurrences) {}

    /** What the check found; {@code raised} is prefix → [before, after] when counters were raised. */
    public record Report(List<Finding> findings, List<String> sources, Map<String, long[]> raised, List<String> notes) {
        /** Findings still true after {@code --fix} (which resolves ABOVE_COUNTER). */
        public List<Finding> remaining() {
            return raised.isEmpty()
                    ? findings
                    : findings.stream()
                            .filter(f -> f.kind() != Kind.ABOVE_COUNTER)
                            .toList();
        }
    }

    /** A set of files read together: the working files here, one branch, or one other work tree. */
    private record Place(String name, List<Doc> docs, List<Occurrence> inboxTasks) {}

    /** One file's text and its label. */
    private record Doc(String label, String text) {}

    /** Longest file read: memory stays bounded whatever a path names. */
    static final int MAX_FILE_BYTES = 16 << 20;

    private final TaskIds ids;
    private final Path cwd;
    private final Json json = new Json();

    public CollisionCheck(TaskIds ids, Path cwd) {
        this.ids = ids;
        this.cwd = cwd.toAbsolutePath().normalize();
    }

    /**
     * Checks {@code files} (relative to the working directory; empty: TASKS.md of the current
     * work tree) and the inbox; with {@code allRefs} also every local branch and work tree.
     * With {@code fix}, raises counters to the highest ID seen (never lowers, never renumbers).
     */
    public Report run(List<String> files, boolean allRefs, boolean fix) {
        return run(files, allRefs, fix, false);
    }

    /**
     * As {@link #run(List, boolean, boolean)}; with {@code staged} the files here are read from
     * git's index (what a commit being made will hold: the pre-commit hook's view) instead of
     * the work tree.
     */
    public Report run(List<String> files, boolean allRefs, boolean fix, boolean staged) {
        Map<String, Long> counters = peek();
        Set<String> prefixes = counters.keySet();
        List<String> notes = new ArrayList<>();
        List<Path> paths = new ArrayList<>();
        if (files.isEmpty()) {
            Path def = worktreeRoot().resolve(Inbox.TASKS_FILE);
            paths.add(def);
            if (!Files.exists(def)) {
                notes.add("no " + def + " (nothing to check there)");
            }
        } else {
            files.forEach(f -> paths.add(cwd.resolve(f).normalize()));
        }

        List<Place> places = new ArrayList<>();
        List<Doc> localDocs = new ArrayList<>();
        Map<Path, String> index = staged ? staged(paths) : Map.of();
        for (Path p : paths) {
            String text = staged ? index.get(p) : read(p, !files.isEmpty());
            if (text != null) {
                localDocs.add(new Doc(label(p), text));
            }
        }
        places.add(new Place("here", localDocs, inboxTasks(prefixes)));

        if (allRefs) {
            places.addAll(otherPlaces(paths, notes));
        }

        // Places with the same content are looked at once.
        List<Place> distinct = new ArrayList<>();
        Map<List<String>, Place> seen = new LinkedHashMap<>();
        for (Place place : places) {
            List<String> key =
                    new ArrayList<>(place.docs().stream().map(Doc::text).toList());
            if (!place.inboxTasks().isEmpty()) {
                key.add("\u0000inbox" + place.inboxTasks());
            }
            if (place != places.get(0) && seen.containsKey(key)) {
                continue;
            }
            seen.putIfAbsent(key, place);
            distinct.add(place);
        }

        List<Finding> findings = new ArrayList<>();
        Map<Place, Map<TaskId, List<Occurrence>>> definitions = new LinkedHashMap<>();
        Map<TaskId, List<Occurrence>> mentions = new TreeMap<>(ID_ORDER);
        for (Place place : distinct) {
            Map<TaskId, List<Occurrence>> defs = new TreeMap<>(ID_ORDER);
            for (Doc doc : place.docs()) {
                for (TasksMarkdown.Definition d : TasksMarkdown.definitions(doc.text(), prefixes)) {
                    defs.computeIfAbsent(d.id(), k -> new ArrayList<>())
                            .add(new Occurrence(doc.label(), d.line(), d.written(), d.title()));
                }
                for (TasksMarkdown.Mention m : TasksMarkdown.mentions(doc.text(), prefixes)) {
                    mentions.computeIfAbsent(m.id(), k -> new ArrayList<>())
                            .add(new Occurrence(doc.label(), m.line(), m.written(), null));
                }
            }
            for (Occurrence o : place.inboxTasks()) {
                TaskId id = TaskId.parse(o.id()).orElseThrow();
                defs.computeIfAbsent(id, k -> new ArrayList<>()).add(o);
                mentions.computeIfAbsent(id, k -> new ArrayList<>()).add(o);
            }
            definitions.put(place, defs);
            defs.forEach((id, where) -> {
                if (where.size() > 1) {
                    findings.add(new Finding(
                            Kind.DUPLICATE,
                            id,
                            "task ID defined " + where.size() + " times"
                                    + (place.name().equals("here") ? "" : " in " + place.name()),
                            where));
                }
            });
        }
        findings.addAll(conflicts(definitions));
        findings.addAll(aboveCounter(mentions, counters));
        findings.sort(Comparator.comparing(Finding::kind).thenComparing(Finding::id, ID_ORDER));

        Map<String, long[]> raised = new TreeMap<>();
        if (fix) {
            raised = raise(mentions);
        }
        List<String> sources = new ArrayList<>();
        for (Place place : places) {
            place.docs().forEach(d -> sources.add(d.label()));
            place.inboxTasks().stream().map(Occurrence::source).distinct().forEach(sources::add);
        }
        return new Report(findings, sources.stream().distinct().toList(), raised, notes);
    }

    private static final Comparator<TaskId> ID_ORDER =
            Comparator.comparing(TaskId::prefix).thenComparingLong(TaskId::number);

    // ------------------------------------------------------------------ places

    /** The current work tree's root: the nearest directory above cwd with a .git, else the project root. */
    public Path worktreeRoot() {
        for (Path p = cwd; p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(".git"))) {
                return p;
            }
        }
        return ids.stateDir().projectRoot();
    }

    /**
     * Refuses (BAD_REQUEST) a {@code file} that is absolute or lies outside the current work
     * tree once links are resolved: for callers that may read only the repository (MCP tools).
     */
    public void requireInWorkTree(String file) {
        Path root = realPath(worktreeRoot());
        if (Path.of(file).isAbsolute() || !realPath(cwd.resolve(file)).startsWith(root)) {
            throw new TaskIdException(
                    ErrorCode.BAD_REQUEST,
                    file + " is not a path inside the work tree " + root + " (give it relative to " + cwd + ")",
                    Map.of("file", file),
                    null);
        }
    }

    /** Pending inbox tasks (no reason) with a parseable ID of a configured prefix. */
    private List<Occurrence> inboxTasks(Set<String> prefixes) {
        List<Occurrence> out = new ArrayList<>();
        Path root = ids.stateDir().projectRoot();
        for (Path file : List.of(ids.stateDir().dir().resolve(Inbox.FILE), root.resolve(Inbox.SEED_FILE))) {
            if (!Files.exists(file)) {
                continue;
            }
            for (InboxFile.Entry e : InboxFile.read(file, json.factory()).entries()) {
                if (e.reason() != null || e.id() == null) {
                    continue;
                }
                TaskId id = TaskId.parse(e.id().trim()).orElse(null);
                if (id != null && prefixes.contains(id.prefix())) {
                    Object title = e.task().get("title");
                    out.add(new Occurrence(
                            label(file), e.line(), e.id().trim(), title == null ? "" : title.toString()));
                }
            }
        }
        return out;
    }

    /** The staged content of each path (absent: not in the index). */
    private Map<Path, String> staged(List<Path> paths) {
        Git git = new Git(cwd);
        if (!git.isRepository()) {
            throw new TaskIdException(
                    ErrorCode.BAD_REQUEST, "--staged needs a git repository; " + cwd + " is not in one");
        }
        Path top = realPath(git.topLevel());
        Map<Path, String> objects = new LinkedHashMap<>();
        for (Path p : paths) {
            Path real = realPath(p);
            if (!real.startsWith(top)) {
                throw new TaskIdException(
                        ErrorCode.BAD_REQUEST, p + " is outside the repository " + top + ": it has no staged content");
            }
            objects.put(p, ":" + top.relativize(real).toString().replace('\\', '/'));
        }
        Map<String, byte[]> contents = git.show(new ArrayList<>(objects.values()));
        Map<Path, String> out = new LinkedHashMap<>();
        objects.forEach((p, object) -> {
            byte[] b = contents.get(object);
            if (b != null) {
                out.put(p, new String(b, StandardCharsets.UTF_8));
            }
        });
        return out;
    }

    /** Every local branch and every other work tree, for the same paths. */
    private List<Place> otherPlaces(List<Path> paths, List<String> notes) {
        Git git = new Git(cwd);
        if (!git.isRepository()) {
            throw new TaskIdException(
                    ErrorCode.BAD_REQUEST, "--all-refs needs a git repository; " + cwd + " is not in one");
        }
        Path top = realPath(git.topLevel());
        List<String> relative = new ArrayList<>();
        for (Path p : paths) {
            Path real = realPath(p);
            if (real.startsWith(top)) {
                relative.add(top.relativize(real).toString().replace('\\', '/'));
            } else {
                notes.add(p + " is outside the repository " + top + ": not looked up in branches and work trees");
            }
        }
        List<Place> out = new ArrayList<>();
        if (relative.isEmpty()) {
            return out;
        }
        List<String> branches = git.branches();
        List<String> objects = new ArrayList<>();
        for (String ref : branches) {
            for (String rel : relative) {
                objects.add(ref + ":" + rel);
            }
        }
        Map<String, byte[]> contents = git.show(objects);
        for (String ref : branches) {
            String name = ref.startsWith("refs/heads/") ? ref.substring("refs/heads/".length()) : ref;
            List<Doc> docs = new ArrayList<>();
            for (String rel : relative) {
                byte[] b = contents.get(ref + ":" + rel);
                if (b != null) {
                    docs.add(new Doc(name + ":" + rel, new String(b, StandardCharsets.UTF_8)));
                }
            }
            out.add(new Place("branch " + name, docs, List.of()));
        }
        for (Git.Worktree wt : git.worktrees()) {
            if (wt.bare()
                    || !Files.isDirectory(wt.path())
                    || realPath(wt.path()).equals(top)) {
                continue;
            }
            List<Doc> docs = new ArrayList<>();
            for (String rel : relative) {
                Path file = wt.path().resolve(rel);
                String text = read(file, false);
                if (text != null) {
                    docs.add(new Doc(label(file), text));
                }
            }
            out.add(new Place("work tree " + wt.path(), docs, List.of()));
        }
        return out;
    }

    // ------------------------------------------------------------------ findings

    /** One ID whose titles in different places name different tasks. */
    private static List<Finding> conflicts(Map<Place, Map<TaskId, List<Occurrence>>> definitions) {
        Map<TaskId, Map<Place, List<Occurrence>>> byId = new TreeMap<>(ID_ORDER);
        definitions.forEach((place, defs) -> defs.forEach((id, where) ->
                byId.computeIfAbsent(id, k -> new LinkedHashMap<>()).put(place, where)));
        List<Finding> out = new ArrayList<>();
        for (Map.Entry<TaskId, Map<Place, List<Occurrence>>> e : byId.entrySet()) {
            List<Map.Entry<Place, List<Occurrence>>> places =
                    new ArrayList<>(e.getValue().entrySet());
            if (places.size() < 2) {
                continue;
            }
            boolean conflict = false;
            for (int i = 0; i < places.size() && !conflict; i++) {
                for (int j = 0; j < places.size() && !conflict; j++) {
                    if (i != j
                            && !matchesAny(
                                    places.get(i).getValue(), places.get(j).getValue())) {
                        conflict = true;
                    }
                }
            }
            if (conflict) {
                List<Occurrence> where = new ArrayList<>();
                places.forEach(p -> where.addAll(p.getValue()));
                out.add(new Finding(
                        Kind.CONFLICT,
                        e.getKey(),
                        "one ID, different tasks on different branches or work trees",
                        where));
            }
        }
        return out;
    }

    /** True when every titled occurrence in {@code a} is the same task as some occurrence in {@code b}. */
    private static boolean matchesAny(List<Occurrence> a, List<Occurrence> b) {
        for (Occurrence x : a) {
            String tx = TasksMarkdown.normalizeTitle(x.title());
            if (tx.isEmpty()) {
                continue;
            }
            boolean found = false;
            for (Occurrence y : b) {
                String ty = TasksMarkdown.normalizeTitle(y.title());
                if (ty.isEmpty() || sameTask(tx, ty)) {
                    found = true;
                    break;
                }
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }

    /** Same task: one title contains the other, or they share at least half of their words. */
    static boolean sameTask(String a, String b) {
        if (a.contains(b) || b.contains(a)) {
            return true;
        }
        Set<String> wa = new HashSet<>(Arrays.asList(a.split("[^\\p{L}\\p{N}]+")));
        Set<String> wb = new HashSet<>(Arrays.asList(b.split("[^\\p{L}\\p{N}]+")));
        wa.remove("");
        wb.remove("");
        Set<String> union = new HashSet<>(wa);
        union.addAll(wb);
        Set<String> common = new HashSet<>(wa);
        common.retainAll(wb);
        return !union.isEmpty() && common.size() * 2 >= union.size();
    }

    private List<Finding> aboveCounter(Map<TaskId, List<Occurrence>> mentions, Map<String, Long> counters) {
        List<String> texts = mentions.keySet().stream().map(TaskId::toString).toList();
        Set<String> notIssued = new HashSet<>();
        for (Response.Validation.Check c : ids.validateAll(texts)) {
            if (!c.issued()) {
                notIssued.add(c.id());
            }
        }
        List<Finding> out = new ArrayList<>();
        mentions.forEach((id, where) -> {
            if (notIssued.contains(id.toString())) {
                long counter = counters.getOrDefault(id.prefix(), 0L);
                out.add(new Finding(
                        Kind.ABOVE_COUNTER,
                        id,
                        "above its counter (" + id.prefix() + " at " + counter
                                + "): never reserved, so taskid may hand it out again",
                        dedupe(where)));
            }
        });
        return out;
    }

    private static List<Occurrence> dedupe(List<Occurrence> where) {
        return new ArrayList<>(new LinkedHashSet<>(where));
    }

    /** Raises each prefix's counter to the highest number seen; returns what changed. */
    private Map<String, long[]> raise(Map<TaskId, List<Occurrence>> mentions) {
        Map<String, Long> floors = new TreeMap<>();
        mentions.keySet().forEach(id -> floors.merge(id.prefix(), id.number(), Math::max));
        Map<String, long[]> raised = new TreeMap<>();
        if (floors.isEmpty()) {
            return raised;
        }
        Response r = ids.call(new Request.Init(null, null, floors)).response();
        if (r instanceof Response.Failure f) {
            throw new TaskIdException(f.code(), f.message(), f.details(), null);
        }
        Response.Initialized init = (Response.Initialized) r;
        init.after().forEach((prefix, after) -> {
            long before = init.before().getOrDefault(prefix, 0L);
            if (after > before) {
                raised.put(prefix, new long[] {before, after});
            }
        });
        return raised;
    }

    // ------------------------------------------------------------------ helpers

    private Map<String, Long> peek() {
        Response r = ids.call(new Request.Peek(null, null)).response();
        if (r instanceof Response.Failure f) {
            throw new TaskIdException(f.code(), f.message(), f.details(), null);
        }
        return ((Response.Counters) r).counters();
    }

    private static String read(Path p, boolean required) {
        try (InputStream in = Files.newInputStream(p)) {
            byte[] bytes = in.readNBytes(MAX_FILE_BYTES + 1);
            if (bytes.length > MAX_FILE_BYTES) {
                throw new TaskIdException(
                        ErrorCode.BAD_REQUEST,
                        p + " is larger than " + (MAX_FILE_BYTES >> 20) + " MiB: not a task list taskid checks",
                        Map.of("file", p.toString()),
                        null);
            }
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            if (required) {
                throw new TaskIdException(
                        ErrorCode.SYSTEM_ERROR, "no such file: " + p, Map.of("file", p.toString()), e);
            }
            return null;
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "cannot read " + p + ": " + e.getMessage(),
                    Map.of("file", p.toString()),
                    e);
        }
    }

    /** A path as the user would type it from the working directory. */
    private String label(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        return abs.startsWith(cwd) && !abs.equals(cwd) ? cwd.relativize(abs).toString() : abs.toString();
    }

    /** The real path; for a missing file, its directory's real path and its name. */
    private static Path realPath(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return abs.toRealPath();
        } catch (IOException e) {
            Path parent = abs.getParent();
            return parent == null || abs.getFileName() == null
                    ? abs
                    : realPath(parent).resolve(abs.getFileName());
        }
    }
}
