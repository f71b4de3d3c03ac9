package dev.taskid.shim;

import dev.taskid.allocator.Wrap;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskId;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.Config;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code taskid shim install claude|opencode} and {@code taskid shim uninstall}: drop-in
 * replacements for the seed scripts' entry points, so agents whose prompts name
 * {@code node .claude/scripts/reserve-task-ids.js SEC 3} or the opencode atomic-task-numberer
 * get their IDs from taskid without changing a word.
 *
 * <p>Every file written carries {@link #MARKER}; only such files are ever overwritten without a
 * backup or removed. A file that is not ours (the seed's own script) is moved to
 * {@code .taskid/shim-backup/} first and put back by {@code uninstall}. Install first imports
 * the seed's counter file (raising counters, never lowering), so no ID the seed handed out is
 * handed out again.
 */
public final class Shims {
    /** In every generated file; how uninstall recognizes them. */
    static final String MARKER = "taskid-shim v1";

    static final String RESERVE_SCRIPT = ".claude/scripts/reserve-task-ids.js";
    static final String INIT_SCRIPT = ".claude/scripts/init-task-counters.js";
    static final String CLAUDE_COUNTERS = ".claude/.task-id-counters.json";
    static final String OPENCODE_STATE = ".opencode/specs/state.json";
    static final String OPENCODE_AGENT = ".opencode/agents/atomic-task-numberer.md";
    static final String DEFAULT_OPENCODE_PREFIX = "DEV";
    private static final String BACKUP_DIR = "shim-backup";

    private final TaskIds ids;
    private final Path root;
    private final Path backups;
    private final PrintStream out;
    private final PrintStream err;
    private final Json json = new Json();

    Shims(TaskIds ids, Path root, PrintStream out, PrintStream err) {
        this.ids = ids;
        this.root = root;
        this.backups = ids.stateDir().dir().resolve(BACKUP_DIR);
        this.out = out;
        this.err = err;
    }

    /** The CLI command: {@code rest} are the words after {@code shim}. Returns the exit status. */
    public static int command(
            List<String> rest, String prefix, TaskIds ids, Path cwd, PrintStream out, PrintStream err) {
        Shims shims = new Shims(ids, checkoutRoot(cwd).orElse(ids.stateDir().projectRoot()), out, err);
        try {
            if (rest.size() == 2 && rest.get(0).equals("install") && rest.get(1).equals("claude") && prefix == null) {
                return shims.installClaude();
            }
            if (rest.size() == 2 && rest.get(0).equals("install") && rest.get(1).equals("opencode")) {
                String p = prefix == null ? DEFAULT_OPENCODE_PREFIX : prefix;
                if (!TaskId.isPrefix(p)) {
                    return usage("--prefix must be an upper-case letter then up to 15 of A-Z, 0-9, got \"" + p + "\"");
                }
                return shims.installOpencode(p);
            }
            if (rest.size() <= 2
                    && !rest.isEmpty()
                    && rest.get(0).equals("uninstall")
                    && prefix == null
                    && (rest.size() == 1 || Set.of("claude", "opencode").contains(rest.get(1)))) {
                return shims.uninstall(rest.size() == 1 ? null : rest.get(1));
            }
            return usage(
                    rest.isEmpty()
                            ? "shim needs install or uninstall"
                            : "cannot understand: shim " + String.join(" ", rest)
                                    + (prefix == null ? "" : " --prefix " + prefix));
        } catch (IOException e) {
            err.println("taskid: " + ErrorCode.SYSTEM_ERROR + ": " + e);
            return ErrorCode.SYSTEM_ERROR.exitStatus();
        } catch (TaskIdException e) {
            err.println("taskid: " + e.code() + ": " + e.getMessage());
            return e.code().exitStatus();
        }
    }

    private static int usage(String message) {
        throw new UsageException(
                message,
                "shim install claude | shim install opencode [--prefix PREFIX] | shim uninstall [claude|opencode]");
    }

    /** The working tree the command runs in: the nearest directory with a {@code .git}. */
    static Optional<Path> checkoutRoot(Path cwd) {
        for (Path p = cwd.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(".git"))) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    // ------------------------------------------------------------------ claude

    int installClaude() throws IOException {
        Map<String, Long> floors = new TreeMap<>();
        Path seedCounters = root.resolve(CLAUDE_COUNTERS);
        Optional<Map<String, Object>> seed = readJson(seedCounters);
        if (seed.isPresent()) {
            if (seed.get().get("counters") instanceof Map<?, ?> counters) {
                for (Map.Entry<?, ?> e : counters.entrySet()) {
                    if (e.getValue() instanceof Long n) {
                        floors.merge(String.valueOf(e.getKey()), n, Math::max);
                    }
                }
            } else {
                err.println(
                        "taskid: warning: " + seedCounters + " has no \"counters\" object; nothing imported from it");
            }
        }
        int status = importFloors(floors, seedCounters);
        if (status != 0) {
            return status;
        }
        String lib = resource("lib.js");
        for (String[] script :
                new String[][] {{RESERVE_SCRIPT, "reserve-task-ids.js"}, {INIT_SCRIPT, "init-task-counters.js"}}) {
            String text = "#!/usr/bin/env node\n"
                    + "// Generated by `taskid shim install claude` (" + MARKER
                    + "); `taskid shim uninstall` removes it.\n"
                    + "// A drop-in for the seed script of the same name: same arguments, same output, but the IDs come\n"
                    + "// from taskid: its daemon's socket, or the taskid command ($TASKID_BIN, else taskid on PATH) when no\n"
                    + "// daemon runs. Nothing in it depends on who installed it or where: commit it for the whole team.\n"
                    + "'use strict';\n\n"
                    + lib + "\n" + resource(script[1]);
            write(script[0], text, true);
        }
        out.println("Agents can keep calling `node " + RESERVE_SCRIPT + " PREFIX [COUNT]`; the IDs now come from taskid"
                + " (daemon if running, else the state lock).");
        if (!onPath("taskid")) {
            err.println(
                    "taskid: note: taskid is not on PATH here: without a daemon the scripts need it there (e.g. ln -s "
                            + java.util.Objects.requireNonNullElse(taskidCommand(), List.of("/path/to/taskid"))
                                    .get(0)
                            + " ~/.local/bin/taskid), or TASKID_BIN naming it");
        }
        if (seed.isPresent()) {
            out.println(
                    "The seed's " + CLAUDE_COUNTERS + " is no longer used (left in place; delete it when no old copy"
                            + " of the seed scripts runs any more).");
        }
        return 0;
    }

    // ---------------------------------------------------------------- opencode

    int installOpencode(String prefix) throws IOException {
        Map<String, Long> floors = new TreeMap<>();
        Path state = root.resolve(OPENCODE_STATE);
        Optional<Map<String, Object>> seed = readJson(state);
        List<Long> active = List.of();
        if (seed.isPresent()) {
            if (seed.get().get("next_project_number") instanceof Long next) {
                // Seed 001 wraps at 1000: the prefix must wrap the same way before any number of it is
                // handed out or imported (its counter is then a position; Wrap.floorForNext reads it so).
                int status = wrapLikeSeed001(prefix);
                if (status != 0) {
                    return status;
                }
                int wrap = Config.load(ids.stateDir().config(), json).wrap(prefix);
                floors.put(prefix, Wrap.floorForNext(next, wrap));
                active = activeNumbers(seed.get(), state);
            } else {
                err.println("taskid: warning: " + state + " has no next_project_number; nothing imported from it");
            }
        }
        boolean fresh = seed.isPresent() && counter(prefix) == 0;
        int status = importFloors(floors, state);
        if (status != 0) {
            return status;
        }
        if (fresh && seed.isPresent() && seed.get().get("next_project_number") instanceof Long) {
            // Raising a wrapped counter marks every number it passes active (taskid cannot know
            // which are done); the seed's list does, so the numbers it does not hold are archived.
            // Only for a prefix taskid had not handed numbers of: its own holders are not in that list.
            Reply listed = ids.call(new Request.Archive(null, prefix, List.of(), false));
            if (listed.response() instanceof Response.Archived now) {
                List<Long> held = active;
                List<Long> done =
                        now.active().stream().filter(n -> !held.contains(n)).toList();
                if (!done.isEmpty()) {
                    Reply archived = ids.call(new Request.Archive(null, prefix, done, false));
                    if (archived.response() instanceof Response.Failure f) {
                        return fail(f);
                    }
                }
            }
        }
        if (!active.isEmpty()) {
            // Numbers the seed's projects still use: the cycle must not hand them out again.
            Reply reply = ids.call(new Request.Archive(null, prefix, active, true));
            reply.notice().ifPresent(err::println);
            if (reply.response() instanceof Response.Failure f) {
                return fail(f);
            }
            out.println("marked active (seed 001's active projects): " + prefix + " " + active);
        }
        String rel =
                existingOpencodeAgent().map(p -> root.relativize(p).toString()).orElse(OPENCODE_AGENT);
        write(rel, resource("atomic-task-numberer.md").replace("@@PREFIX@@", prefix), false);
        out.println("The opencode subagent now runs `taskid reserve " + prefix
                + " N --format seed001` (seed 001's result" + " shape, numbers of prefix " + prefix + ").");
        return 0;
    }

    /**
     * The seed's subagent file if there is one: {@code atomic-task-numberer.md}, or a markdown
     * file titled "Atomic Task Numberer", anywhere under .opencode/agent or .opencode/agents.
     */
    private Optional<Path> existingOpencodeAgent() throws IOException {
        List<Path> found = new ArrayList<>();
        for (String dir : List.of(".opencode/agents", ".opencode/agent")) {
            Path d = root.resolve(dir);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(d, 4)) {
                files.filter(p -> p.toString().endsWith(".md") && Files.isRegularFile(p))
                        .sorted()
                        .forEach(found::add);
            }
        }
        for (Path p : found) {
            if (p.getFileName().toString().equals("atomic-task-numberer.md")) {
                return Optional.of(p);
            }
        }
        for (Path p : found) {
            String text = Files.readString(p, StandardCharsets.UTF_8);
            if (text.contains("# Atomic Task Numberer") || text.contains(MARKER)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Seed 001's cycle: numbers 0..999. */
    static final int SEED001_WRAP = 1000;

    /**
     * Makes {@code prefix} wrap at {@link #SEED001_WRAP} in config.json, unless it wraps already.
     * Refused when a daemon runs (it reads the config at start only) or when the prefix has
     * handed out numbers beyond one cycle (they cannot be read as positions of the cycle).
     */
    private int wrapLikeSeed001(String prefix) throws IOException {
        Path configFile = ids.stateDir().config();
        Config config = Config.load(configFile, json);
        if (config.wrap(prefix) != 0) {
            return 0;
        }
        if (ids.daemon().isPresent()) {
            return fail(new Response.Failure(
                    null,
                    ErrorCode.CONFIG_INVALID,
                    "seed 001's numbers wrap at " + SEED001_WRAP
                            + " and " + prefix + " does not wrap yet; a daemon serves " + ids.stateDir() + " and reads "
                            + configFile
                            + " only when it starts: stop it (taskid daemon stop), run this again, then start it",
                    false,
                    Map.of()));
        }
        long counter = new dev.taskid.state.StateFile(ids.stateDir().counters(), json, java.time.Clock.systemUTC())
                .read()
                .map(l -> l.counters().getOrDefault(prefix, 0L))
                .orElse(0L);
        if (counter >= SEED001_WRAP) {
            return fail(new Response.Failure(
                    null,
                    ErrorCode.CONFIG_INVALID,
                    prefix + " has handed out numbers up to " + counter + ", beyond seed 001's cycle of " + SEED001_WRAP
                            + "; choose another prefix with --prefix",
                    false,
                    Map.of("counter", counter)));
        }
        Map<String, Object> file = readJson(configFile)
                .map(m -> (Map<String, Object>) new java.util.LinkedHashMap<>(m))
                .orElseGet(java.util.LinkedHashMap::new);
        Map<String, Object> all = new java.util.LinkedHashMap<>();
        if (file.get("prefixOptions") instanceof Map<?, ?> existing) {
            existing.forEach((k, v) -> all.put(String.valueOf(k), v));
        }
        Map<String, Object> options = new java.util.LinkedHashMap<>();
        if (all.get(prefix) instanceof Map<?, ?> existing) {
            existing.forEach((k, v) -> options.put(String.valueOf(k), v));
        }
        options.put("wrap", SEED001_WRAP);
        all.put(prefix, options);
        file.put("prefixOptions", all);
        ids.stateDir().create();
        dev.taskid.state.DurableFiles.replace(configFile, json.writeLine(file));
        Config.load(configFile, json); // refuses (CONFIG_INVALID) what it would not run with
        out.println(
                "set " + prefix + " to wrap at " + SEED001_WRAP + " like seed 001 (" + configFile + " prefixOptions)");
        return 0;
    }

    /**
     * The numbers seed 001's projects still hold: {@code active_projects} (or {@code projects})
     * entries that are numbers, numeric strings, or objects with {@code number} /
     * {@code project_number} whose {@code status} is not archived, completed or done.
     */
    private List<Long> activeNumbers(Map<String, Object> seed, Path file) {
        java.util.TreeSet<Long> numbers = new java.util.TreeSet<>();
        for (String key : List.of("active_projects", "projects")) {
            if (!(seed.get(key) instanceof List<?> entries)) {
                continue;
            }
            for (Object e : entries) {
                Object n = e;
                if (e instanceof Map<?, ?> m) {
                    Object status = m.get("status");
                    if (status != null
                            && Set.of("archived", "completed", "done")
                                    .contains(String.valueOf(status).toLowerCase())) {
                        continue;
                    }
                    n = m.get("number") != null ? m.get("number") : m.get("project_number");
                }
                Long number = n instanceof Long l
                        ? l
                        : n instanceof String t && t.matches("[0-9]{1,4}") ? Long.valueOf(t) : null;
                if (number != null && number < SEED001_WRAP) {
                    numbers.add(number);
                } else {
                    err.println("taskid: warning: " + file + ": " + key + " entry " + e + " names no number below "
                            + SEED001_WRAP + "; skipped");
                }
            }
        }
        return List.copyOf(numbers);
    }

    // --------------------------------------------------------------- uninstall

    int uninstall(String which) throws IOException {
        List<String> targets = new ArrayList<>();
        if (which == null || which.equals("claude")) {
            targets.add(RESERVE_SCRIPT);
            targets.add(INIT_SCRIPT);
        }
        if (which == null || which.equals("opencode")) {
            Optional<Path> agent = existingOpencodeAgent();
            targets.add(agent.map(p -> root.relativize(p).toString()).orElse(OPENCODE_AGENT));
        }
        int removed = 0;
        for (String rel : targets) {
            Path file = root.resolve(rel);
            if (!Files.exists(file)) {
                continue;
            }
            if (!Files.readString(file, StandardCharsets.UTF_8).contains(MARKER)) {
                err.println("taskid: left " + rel + " alone: it was not written by taskid shim install");
                continue;
            }
            Path backup = backups.resolve(rel);
            if (Files.isRegularFile(backup)) {
                Files.move(backup, file, StandardCopyOption.REPLACE_EXISTING);
                out.println("restored " + rel + " (the file it replaced)");
            } else {
                Files.delete(file);
                out.println("removed " + rel);
            }
            removed++;
        }
        if (removed == 0) {
            out.println("nothing to uninstall under " + root);
        }
        return 0;
    }

    // ----------------------------------------------------------------- helpers

    /** Raises counters to at least {@code floors} (never lowers); unknown prefixes are reported and skipped. */
    /** {@code prefix}'s counter now (0 when it has none yet, or the state cannot tell). */
    private long counter(String prefix) {
        Reply r = ids.call(new Request.Peek(null, prefix));
        return r.response() instanceof Response.Counters c ? c.counters().getOrDefault(prefix, 0L) : 0L;
    }

    private int importFloors(Map<String, Long> floors, Path source) {
        // Always ask once: on first use this creates the state (from TASKS.md) now, so that the
        // scripts' first call prints nothing but the seed's output.
        Reply peek = ids.call(new Request.Peek(null, null));
        peek.notice().ifPresent(err::println);
        if (peek.response() instanceof Response.Failure f) {
            return fail(f);
        }
        if (floors.isEmpty()) {
            return 0;
        }
        Set<String> valid = ((Response.Counters) peek.response()).counters().keySet();
        Map<String, Long> known = new TreeMap<>();
        floors.forEach((p, n) -> {
            if (valid.contains(p)) {
                known.put(p, n);
            } else {
                err.println("taskid: warning: " + source + ": prefix " + p + " (" + n + ") is not configured; add it to"
                        + " .taskid/config.json \"extraPrefixes\" and run this again");
            }
        });
        if (known.isEmpty()) {
            return 0;
        }
        Reply reply = ids.call(new Request.Init(null, null, known));
        reply.notice().ifPresent(err::println);
        if (reply.response() instanceof Response.Failure f) {
            return fail(f);
        }
        Response.Initialized r = (Response.Initialized) reply.response();
        out.println("imported " + root.relativize(source) + " (never lowering):");
        for (Map.Entry<String, Long> e : r.after().entrySet()) {
            long before = r.before().getOrDefault(e.getKey(), 0L);
            out.printf(
                    "   %-8s → %d%s%n",
                    e.getKey(), e.getValue(), before == e.getValue() ? "   (unchanged)" : "   (was " + before + ")");
        }
        return 0;
    }

    private int fail(Response.Failure f) {
        err.println("taskid: " + f.code() + ": " + f.message());
        return f.code().exitStatus();
    }

    private Optional<Map<String, Object>> readJson(Path file) {
        Optional<byte[]> read = dev.taskid.state.DurableFiles.readIfExists(file);
        if (read.isEmpty()) {
            return Optional.empty();
        }
        byte[] bytes = read.get();
        try {
            return Optional.of(json.readObject(bytes, 0, bytes.length));
        } catch (JsonException e) {
            throw new TaskIdException(
                    ErrorCode.STATE_CORRUPT,
                    file + " is not valid JSON (" + e.getMessage() + "); fix or remove it, then install again");
        }
    }

    /** Writes {@code rel} under the root; a file that is not ours is backed up first. */
    private void write(String rel, String text, boolean executable) throws IOException {
        Path file = root.resolve(rel);
        String note = "";
        if (Files.exists(file)) {
            String old = Files.readString(file, StandardCharsets.UTF_8);
            if (!old.contains(MARKER)) {
                ids.stateDir().create();
                Path backup = backups.resolve(rel);
                if (Files.exists(backup)) {
                    backup = backup.resolveSibling(backup.getFileName() + "." + System.currentTimeMillis());
                }
                Files.createDirectories(backup.getParent());
                Files.copy(file, backup, StandardCopyOption.COPY_ATTRIBUTES);
                note = " (the file it replaces is kept in " + root.relativize(backup) + "; uninstall puts it back)";
            }
        }
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".taskid-tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        if (executable) {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: `node FILE` works all the same
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        out.println("wrote " + rel + note);
    }

    private static String resource(String name) {
        try (InputStream in = Shims.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * How the scripts run taskid when no daemon answers, if neither TASKID_BIN nor PATH has it:
     * the launcher that ran this install ({@code TASKID_LAUNCHER}, or {@code taskid} at the root
     * of the source tree this jar was built in), else {@code java -jar} this jar. Null when
     * running from classes (tests).
     */
    public static List<String> taskidCommand() {
        String launcher = System.getenv("TASKID_LAUNCHER");
        if (launcher != null && !launcher.isEmpty() && Files.isExecutable(Path.of(launcher))) {
            return List.of(Path.of(launcher).toAbsolutePath().toString());
        }
        Path code;
        try {
            code = Path.of(Shims.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
        if (!Files.isRegularFile(code) || !code.toString().endsWith(".jar")) {
            return null;
        }
        // <root>/cli/target/taskid-cli.jar -> <root>/taskid
        Path sourceRoot = code.getParent() == null || code.getParent().getParent() == null
                ? null
                : code.getParent().getParent().getParent();
        if (sourceRoot != null
                && Files.isExecutable(sourceRoot.resolve("taskid"))
                && Files.isRegularFile(sourceRoot.resolve("taskid"))) {
            return List.of(sourceRoot.resolve("taskid").toString());
        }
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", code.toString());
    }

    private static boolean onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
                return true;
            }
        }
        return false;
    }
}
