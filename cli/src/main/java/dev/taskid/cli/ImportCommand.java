package dev.taskid.cli;

import dev.taskid.allocator.Wrap;
import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Output;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.json.JsonException;
import dev.taskid.options.Option;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** {@code taskid import}: counters raised from the seed scripts' state files. */
final class ImportCommand implements Command {
    private static final Spec SPEC = new Spec(
            "import",
            "import [--from FILE]... [--opencode-prefix PREFIX]",
            "Raise counters from the seed scripts' state: .claude/.task-id-counters.json and, with --opencode-prefix,\n"
                    + ".opencode/specs/state.json (next_project_number). Never lowers.",
            List.of(
                    Option.valued("--from", "FILE", "the seed state file to read (default: both seeds' files)"),
                    Option.valued(
                            "--opencode-prefix", "PREFIX", "the prefix that seed 001's next_project_number numbers")));

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        if (!c.rest().isEmpty()) {
            throw new UsageException("import takes no arguments; name files with --from");
        }
        Output o = c.output();
        TaskIds ids = c.ids();
        Path root = ids.stateDir().projectRoot();
        List<Path> files = new ArrayList<>();
        String from = c.option("--from");
        if (from != null) {
            files.add(c.cwd().resolve(from));
        } else {
            files.add(root.resolve(".claude/.task-id-counters.json"));
            files.add(root.resolve(".opencode/specs/state.json"));
        }
        Map<String, Long> floors = new TreeMap<>();
        Map<String, Set<Long>> seedActive = new TreeMap<>();
        List<String> used = new ArrayList<>();
        for (Path file : files) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                if (from != null) {
                    return o.fail(ErrorCode.SYSTEM_ERROR, "no such file: " + file, false, Map.of());
                }
                continue;
            } catch (IOException e) {
                return o.fail(ErrorCode.SYSTEM_ERROR, "cannot read " + file + ": " + e.getMessage(), false, Map.of());
            }
            Map<String, Object> obj;
            try {
                obj = o.codec().readObject(bytes, 0, bytes.length);
            } catch (JsonException e) {
                return o.fail(ErrorCode.STATE_CORRUPT, file + " is not valid JSON: " + e.getMessage(), false, Map.of());
            }
            if (obj.get("counters") instanceof Map<?, ?> counters) {
                for (Map.Entry<?, ?> e : counters.entrySet()) {
                    if (e.getValue() instanceof Long n) {
                        floors.merge(String.valueOf(e.getKey()), n, Math::max);
                    }
                }
                used.add(file.toString());
            } else if (obj.get("next_project_number") instanceof Long next) {
                String prefix = c.option("--opencode-prefix");
                if (prefix == null) {
                    c.err()
                            .println("taskid: skipped " + file + " (next_project_number " + next
                                    + "): say which prefix numbers it with --opencode-prefix PREFIX");
                    continue;
                }
                // next_project_number = the next number to hand out; with wrap, read in the first cycle
                int wrap = Config.load(ids.stateDir().config(), o.codec()).wrap(prefix);
                floors.merge(prefix, Wrap.floorForNext(next, wrap), Math::max);
                activeProjects(obj.get("active_projects")).ifPresent(a -> seedActive.put(prefix, a));
                used.add(file.toString());
            } else {
                return o.fail(
                        ErrorCode.STATE_CORRUPT,
                        file + " has neither \"counters\" nor \"next_project_number\"",
                        false,
                        Map.of());
            }
        }
        if (used.isEmpty()) {
            // Not an error of the disk or of the state: there is simply nothing to do (exit 1, like validate's "no").
            if (c.json()) {
                o.object(Map.of("imported", List.of()));
            }
            c.err()
                    .println("taskid: nothing to import: none of "
                            + files.stream().map(Path::toString).toList() + " holds seed counters");
            return Context.NO;
        }
        Reply reply = ids.call(new Request.Init(null, null, floors));
        if (reply.response() instanceof Response.Initialized r) {
            for (Map.Entry<String, Set<Long>> e : seedActive.entrySet()) {
                int archived = archiveInactive(o, ids, r, e.getKey(), e.getValue());
                if (archived < 0) {
                    return -archived;
                }
            }
        }
        return Raised.report(o, reply, 0, String.join(", ", used));
    }

    /** The numbers of seed 001's {@code active_projects} (numbers, or objects with one), if it can be read. */
    private static Optional<Set<Long>> activeProjects(Object value) {
        if (!(value instanceof List<?> list)) {
            return Optional.empty();
        }
        Set<Long> out = new TreeSet<>();
        for (Object o : list) {
            Object n = o instanceof Map<?, ?> m
                    ? (m.containsKey("number") ? m.get("number") : m.get("project_number"))
                    : o;
            if (n instanceof Long l) {
                out.add(l);
            } else if (n instanceof String t && t.matches("\\d{1,15}")) {
                out.add(Long.parseLong(t));
            } else {
                return Optional.empty(); // unknown shape: every imported number stays active
            }
        }
        return Optional.of(out);
    }

    /**
     * After an import raised a wrapped prefix from 0: init marked every number of the seed's
     * positions active (nobody knew which were in use); the seed's {@code active_projects}
     * does, so the others are archived. Only from 0: a prefix taskid already handed numbers of
     * keeps them all active (its own holders are not in the seed's list). Returns the count, or
     * a negative exit status.
     */
    private static int archiveInactive(Output o, TaskIds ids, Response.Initialized r, String prefix, Set<Long> active) {
        long before = r.before().getOrDefault(prefix, 0L);
        long after = r.after().getOrDefault(prefix, 0L);
        int wrap = Config.load(ids.stateDir().config(), o.codec()).wrap(prefix);
        if (wrap == 0 || before != 0 || after <= before) {
            return 0;
        }
        Set<Long> done = new TreeSet<>();
        for (long position = Math.max(1, after - wrap + 1); position <= after; position++) {
            long number = Wrap.number(position, wrap);
            if (!active.contains(number)) {
                done.add(number);
            }
        }
        if (done.isEmpty()) {
            return 0;
        }
        Reply archived = ids.call(new Request.Archive(null, prefix, List.copyOf(done), false));
        if (archived.response() instanceof Response.Failure f) {
            return -o.fail(f);
        }
        return done.size();
    }
}
