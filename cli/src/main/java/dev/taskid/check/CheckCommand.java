package dev.taskid.check;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.json.Json;
import dev.taskid.options.Option;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.shim.Shims;
import dev.taskid.state.DurableFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@code taskid check [FILE...] [--all-refs] [--fix] [--install-hook]}: the collision check as a
 * pre-commit hook or CI gate. One line per place a problem shows, {@code FILE:LINE:ID: kind:
 * message}, so editors and CI logs link to it.
 *
 * <p>Exit status: 0 no problem (after {@code --fix}: none left); 1 problems found; 2 usage; the
 * usual statuses for errors (6 SYSTEM_ERROR when git or a file cannot be read).
 */
public final class CheckCommand implements Command {
    public static final String SYNOPSIS = "check [FILE...] [--all-refs] [--staged] [--fix] [--install-hook] [--json]";
    public static final String HELP =
            "Find task IDs defined twice (in TASKS.md or FILEs, and the inbox), IDs above their counter (written without\n"
                    + "reserving: taskid would hand them out again), and with --all-refs one ID used for different tasks\n"
                    + "across the local branches (git cat-file, nothing checked out) and worktrees. Prints FILE:LINE:ID: kind.\n"
                    + "--staged reads the FILEs (default TASKS.md) from git's index: what the commit being made will hold.\n"
                    + "--fix raises counters above every ID seen (counters only go up; tasks are never renumbered).\n"
                    + "--install-hook adds `taskid check --staged` (with the FILEs and --all-refs given) to the repository's\n"
                    + "pre-commit hook, keeping what the hook already does. Exit 1 if a problem was found (and not fixed).";
    /** The line that marks our part of a hook; finding it makes a second install a no-op. */
    static final String HOOK_MARKER = "# taskid check (added by `taskid check --install-hook`)";

    private static final int OK = 0;
    private static final int FOUND = 1;

    private static final Spec SPEC = new Spec(
            "check",
            SYNOPSIS,
            HELP,
            List.of(
                    Option.flag("--all-refs", "also compare the local branches and worktrees"),
                    Option.flag("--staged", "read the FILEs from git's index"),
                    Option.flag("--fix", "raise counters above every ID seen"),
                    Option.flag("--install-hook", "add the check to the repository's pre-commit hook")));

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        List<String> files = c.rest();
        boolean allRefs = c.flag("--all-refs");
        boolean staged = c.flag("--staged");
        boolean fix = c.flag("--fix");
        boolean json = c.json();
        Path cwd = c.cwd();
        PrintStream out = c.out();
        PrintStream err = c.err();
        if (c.flag("--install-hook")) {
            List<String> taskidCommand = Objects.requireNonNullElse(Shims.taskidCommand(), List.of("taskid"));
            if (fix) {
                throw new UsageException(
                        "--install-hook and --fix do not go together: a hook should not change counters", SYNOPSIS);
            }
            List<String> command = new ArrayList<>(taskidCommand);
            command.add("check");
            command.add("--staged"); // what the commit will hold, not the work tree
            command.addAll(files);
            if (allRefs) {
                command.add("--all-refs");
            }
            return installHook(new Git(cwd), command, out);
        }
        CollisionCheck.Report report = new CollisionCheck(c.ids(), cwd).run(files, allRefs, fix, staged);
        List<CollisionCheck.Finding> remaining = report.remaining();
        if (json) {
            out.println(new String(
                    new Json().write(g -> {
                        g.writeStartObject();
                        g.writeBooleanField("ok", remaining.isEmpty());
                        Json.writeValue(
                                g,
                                "findings",
                                report.findings().stream()
                                        .map(CheckCommand::fields)
                                        .toList());
                        Map<String, Object> raised = new LinkedHashMap<>();
                        report.raised().forEach((p, r) -> raised.put(p, Map.of("before", r[0], "after", r[1])));
                        Json.writeValue(g, "raised", raised);
                        Json.writeValue(g, "sources", report.sources());
                        Json.writeValue(g, "notes", report.notes());
                        g.writeEndObject();
                    }),
                    StandardCharsets.UTF_8));
        } else {
            report.notes().forEach(n -> err.println("taskid: note: " + n));
            for (CollisionCheck.Finding f : report.findings()) {
                for (CollisionCheck.Occurrence o : f.occurrences()) {
                    out.println(o.source() + ":" + o.line() + ":" + o.id() + ": "
                            + f.kind().wireName() + ": " + f.message()
                            + (o.title() == null || o.title().isEmpty() ? "" : " (\"" + o.title() + "\")"));
                }
            }
            report.raised().forEach((p, r) -> out.println("raised " + p + " from " + r[0] + " to " + r[1]));
            out.println(
                    remaining.isEmpty()
                            ? "ok: no task ID collisions in " + String.join(", ", report.sources())
                            : remaining.size() + " problem(s) with task IDs"
                                    + (fix
                                                    || remaining.stream()
                                                            .noneMatch(
                                                                    f -> f.kind() == CollisionCheck.Kind.ABOVE_COUNTER)
                                            ? ""
                                            : " (IDs above their counter: reserve IDs with `taskid reserve`, or raise counters with"
                                                    + " `taskid check --fix`)"));
        }
        return remaining.isEmpty() ? OK : FOUND;
    }

    /** One finding as JSON fields: {@code check --json} and the MCP tool {@code check_collisions}. */
    public static Map<String, Object> fields(CollisionCheck.Finding f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", f.kind().wireName());
        m.put("id", f.id().toString());
        m.put("message", f.message());
        List<Map<String, Object>> where = new ArrayList<>();
        for (CollisionCheck.Occurrence o : f.occurrences()) {
            Map<String, Object> w = new LinkedHashMap<>();
            w.put("file", o.source());
            w.put("line", o.line());
            w.put("id", o.id());
            if (o.title() != null) {
                w.put("title", o.title());
            }
            where.add(w);
        }
        m.put("occurrences", where);
        return m;
    }

    /**
     * Puts {@code command} first in the pre-commit hook git runs for this repository (it honours
     * core.hooksPath): a new hook is just that; an existing one keeps every line, ours goes right
     * after its {@code #!} line so an {@code exit} further down cannot skip it.
     */
    private static int installHook(Git git, List<String> command, PrintStream out) {
        if (!git.isRepository()) {
            throw new TaskIdException(ErrorCode.BAD_REQUEST, "--install-hook needs a git repository");
        }
        Path hook = git.gitPath("hooks/pre-commit");
        try {
            String existing = Files.exists(hook) ? Files.readString(hook, StandardCharsets.UTF_8) : null;
            if (existing != null && existing.contains(HOOK_MARKER)) {
                out.println("taskid check is already in " + hook);
                return OK;
            }
            String ours = HOOK_MARKER + "\n" + shellWords(command) + " || exit $?\n";
            String text;
            if (existing == null || existing.isEmpty()) {
                text = "#!/bin/sh\n" + ours;
            } else if (existing.startsWith("#!")) {
                int nl = existing.indexOf('\n');
                text = nl < 0
                        ? existing + "\n" + ours
                        : existing.substring(0, nl + 1) + ours + existing.substring(nl + 1);
            } else {
                text = "#!/bin/sh\n" + ours + existing;
            }
            Files.createDirectories(hook.getParent());
            DurableFiles.replace(hook, text.getBytes(StandardCharsets.UTF_8));
            // git runs only executable hooks: executable for whoever may read it
            Set<PosixFilePermission> mode = new HashSet<>(Files.getPosixFilePermissions(hook));
            mode.add(PosixFilePermission.OWNER_EXECUTE);
            if (mode.contains(PosixFilePermission.GROUP_READ)) {
                mode.add(PosixFilePermission.GROUP_EXECUTE);
            }
            if (mode.contains(PosixFilePermission.OTHERS_READ)) {
                mode.add(PosixFilePermission.OTHERS_EXECUTE);
            }
            Files.setPosixFilePermissions(hook, mode);
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot write " + hook + ": " + e.getMessage());
        }
        out.println("added `" + shellWords(command) + "` to " + hook);
        return OK;
    }

    private static String shellWords(List<String> words) {
        StringBuilder b = new StringBuilder();
        for (String w : words) {
            if (b.length() > 0) {
                b.append(' ');
            }
            b.append(w.matches("[A-Za-z0-9_./:=@%+-]+") ? w : "'" + w.replace("'", "'\\''") + "'");
        }
        return b.toString();
    }
}
