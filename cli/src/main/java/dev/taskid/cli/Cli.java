package dev.taskid.cli;

import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.JsonLines;
import dev.taskid.protocol.ProtocolException;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.protocol.Version;
import dev.taskid.state.StateDir;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The {@code taskid} commands. Results go to stdout (JSON where a program reads them), every
 * diagnostic to stderr, and the exit status says what happened (see {@link #usage()}).
 */
final class Cli {
    static final int OK = 0;
    static final int NO = 1;
    static final int USAGE = 2;

    private static final Set<String> GLOBAL_FLAGS = Set.of("--json", "--no-fallback", "--help", "-h", "--version");
    private static final Set<String> GLOBAL_VALUED = Set.of("--dir", "--lock-timeout");

    private final PrintStream out;
    private final PrintStream err;
    private final Path cwd;
    private final Map<String, String> env;
    private final JsonLines json = new JsonLines();
    private boolean jsonErrors;

    Cli(PrintStream out, PrintStream err, Path cwd, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.cwd = cwd;
        this.env = env;
    }

    /** One command and what it accepts. */
    private record Command(String name, String synopsis, String help, Set<String> flags, Set<String> valued) {
    }

    private static final List<Command> COMMANDS = List.of(
            new Command("reserve", "reserve PREFIX [COUNT] [--purpose TEXT] [--agent NAME] [--key KEY] [--verbose] [--format seed000|seed001|verbose]",
                    "Reserve COUNT (default 1) consecutive IDs, atomically and durably. Prints {\"ids\":[...],\"reservedAt\":...}.\n"
                            + "--key makes retries safe: the same key and arguments return the same IDs.",
                    Set.of("--verbose"), Set.of("--purpose", "--agent", "--key", "--format")),
            new Command("init", "init [FILE...]",
                    "Raise counters to the highest IDs found in markdown FILEs (default: TASKS.md at the project root). Never lowers.",
                    Set.of(), Set.of()),
            new Command("show", "show [PREFIX] [--json]", "Print the counters (value = last number issued).",
                    Set.of(), Set.of()),
            new Command("prefixes", "prefixes [--json]", "Print the valid prefixes.", Set.of(), Set.of()),
            new Command("validate", "validate ID... [--json]",
                    "Say whether each ID was issued (known prefix, number at or below its counter). Exit 1 if any was not.",
                    Set.of(), Set.of()),
            new Command("set", "set PREFIX N [--force]",
                    "Set a counter. Raising is safe; lowering needs --force because lowered IDs are handed out again.",
                    Set.of("--force"), Set.of()),
            new Command("import", "import [--from FILE]... [--opencode-prefix PREFIX]",
                    "Raise counters from the seed scripts' state: .claude/.task-id-counters.json and, with --opencode-prefix,\n"
                            + ".opencode/specs/state.json (next_project_number). Never lowers.",
                    Set.of(), Set.of("--from", "--opencode-prefix")),
            new Command("archive", "archive PREFIX [NUMBER|FROM-TO|ID...] [--restore] [--json]",
                    "Mark numbers of a wrapped prefix (config prefixOptions wrap) done, so the sequence may hand them out again\n"
                            + "when it comes round; a reservation that would hand out an active number fails with NUMBER_CONFLICT.\n"
                            + "No numbers: list the active ones. --restore: mark them active again (in use from before taskid).",
                    Set.of("--restore"), Set.of()),
            new Command("daemon", "daemon status|stop [--json]",
                    "status: is a daemon serving this state directory (exit 3 if not). stop: SIGTERM it and wait for it to exit.\n"
                            + "`taskid daemon` with no sub-command runs the daemon in the foreground (via the launcher).",
                    Set.of(), Set.of()),
            new Command("systemd", "systemd install|uninstall [--system] [--unit-dir DIR]",
                    "install: write systemd units for this state directory that start the daemon on the first connection\n"
                            + "(user units taskid@.socket/.service by default; --system: taskid.service) and print the systemctl\n"
                            + "commands. uninstall: remove this directory's drop-ins (or the system unit).",
                    Set.of("--system"), Set.of("--unit-dir")),
            new Command("mcp", "mcp",
                    "Serve the Model Context Protocol on stdin/stdout for AI agents (tools reserve_task_ids, validate_task_ids,\n"
                            + "show_counters, process_inbox). Register it with your agent, e.g. `claude mcp add taskid -- taskid mcp`; see docs/CLIENTS.md.",
                    Set.of(), Set.of()),
            new Command("shim", "shim install claude|opencode [--prefix PREFIX] | shim uninstall [claude|opencode]",
                    "install claude: write .claude/scripts/reserve-task-ids.js and init-task-counters.js, drop-in replacements\n"
                            + "for the seed scripts (same arguments and output) that ask taskid. install opencode: write the\n"
                            + "atomic-task-numberer subagent that calls `taskid reserve PREFIX N --format seed001` (--prefix, default DEV).\n"
                            + "Both import the seeds' counter files first (never lowering). uninstall: remove them, restoring backups.",
                    Set.of(), Set.of("--prefix")),
            new Command("inbox", dev.taskid.inbox.InboxCommand.SYNOPSIS, dev.taskid.inbox.InboxCommand.HELP,
                    Set.of("--retry"), Set.of()),
            new Command("check", dev.taskid.check.CheckCommand.SYNOPSIS, dev.taskid.check.CheckCommand.HELP,
                    Set.of("--all-refs", "--staged", "--fix", "--install-hook"), Set.of()),
            new Command("log", dev.taskid.cli.admin.LogCommand.SYNOPSIS, dev.taskid.cli.admin.LogCommand.HELP,
                    Set.of(), Set.of("--since")),
            new Command("stats", dev.taskid.cli.admin.StatsCommand.SYNOPSIS, dev.taskid.cli.admin.StatsCommand.HELP,
                    Set.of(), Set.of("--since")),
            new Command("recover", dev.taskid.cli.admin.RecoverCommand.SYNOPSIS, dev.taskid.cli.admin.RecoverCommand.HELP,
                    Set.of("--yes"), Set.of()),
            new Command("doctor", dev.taskid.cli.admin.DoctorCommand.SYNOPSIS, dev.taskid.cli.admin.DoctorCommand.HELP,
                    Set.of(), Set.of()),
            new Command("help", "help [COMMAND]", "Show help.", Set.of(), Set.of()));

    int run(String[] argv) {
        List<String> words = Arrays.asList(argv);
        Command command = findCommand(words);
        try {
            Set<String> flags = new java.util.HashSet<>(GLOBAL_FLAGS);
            Set<String> valued = new java.util.HashSet<>(GLOBAL_VALUED);
            if (command != null) {
                flags.addAll(command.flags());
                valued.addAll(command.valued());
            }
            Args args = Args.parse(words, flags, valued);
            jsonErrors = args.flag("--json");
            if (args.flag("--version")) {
                out.println("taskid " + Version.CURRENT);
                return OK;
            }
            if (command == null) {
                if (args.positionals().isEmpty() || args.flag("--help") || args.flag("-h")) {
                    out.print(usage());
                    return args.positionals().isEmpty() && !args.flag("--help") && !args.flag("-h") ? USAGE : OK;
                }
                throw new Args.UsageException("unknown command \"" + args.positionals().get(0) + "\"");
            }
            if (args.flag("--help") || args.flag("-h")) {
                out.print(help(command));
                return OK;
            }
            List<String> rest = args.positionals().subList(1, args.positionals().size());
            if (command.name().equals("help")) {
                Command about = rest.isEmpty() ? null : byName(rest.get(0));
                out.print(about == null ? usage() : help(about));
                return OK;
            }
            return execute(command, rest, args);
        } catch (Args.UsageException e) {
            err.println("taskid: " + e.getMessage());
            err.println("usage: taskid " + (command == null ? "COMMAND ..." : command.synopsis()) + "   (taskid --help)");
            return USAGE;
        } catch (TaskIdException e) {
            return fail(e.code(), e.getMessage(), e.code().retryByDefault(), e.details());
        }
    }

    private int execute(Command command, List<String> rest, Args args) throws Args.UsageException {
        StateDir dir = StateDir.locate(cwd, args.option("--dir") != null ? args.option("--dir") : env.get("TASKID_DIR"));
        boolean existed = dir.exists();
        TaskIds.Options options = TaskIds.Options.DEFAULT.withFallback(!args.flag("--no-fallback"));
        if (args.option("--lock-timeout") != null) {
            options = options.withLockTimeout(Duration.ofMillis(parseLong(args.option("--lock-timeout"), "--lock-timeout")));
        }
        try (TaskIds ids = TaskIds.open(dir, options)) {
            int status = dispatch(command, rest, args, ids);
            if (!existed && dir.guessed() && dir.exists()) {
                err.println("taskid: no git repository found above " + cwd + "; keeping state in " + dir
                        + " (choose another place with --dir or TASKID_DIR)");
            }
            return status;
        }
    }

    private int dispatch(Command command, List<String> rest, Args args, TaskIds ids) throws Args.UsageException {
        switch (command.name()) {
            case "reserve":
                return reserve(rest, args, ids);
            case "init":
                return init(rest, ids);
            case "show":
                return show(rest, args, ids);
            case "prefixes":
                return prefixes(args, ids);
            case "validate":
                return validate(rest, args, ids);
            case "set":
                return set(rest, args, ids);
            case "import":
                return importSeeds(rest, args, ids);
            case "archive":
                return archive(rest, args, ids);
            case "daemon":
                return daemon(rest, args, ids);
            case "systemd":
                return systemd(rest, args, ids);
            case "mcp":
                return dev.taskid.mcp.McpServer.serve(ids, rest, System.in, out, err);
            case "shim":
                return dev.taskid.shim.Shims.command(rest, args.option("--prefix"), ids, cwd, out, err);
            case "inbox":
                return dev.taskid.inbox.InboxCommand.run(rest, args.flag("--json"), args.flag("--retry"),
                        args.option("--lock-timeout"), ids, cwd, System.in, out, err);
            case "check":
                return dev.taskid.check.CheckCommand.run(rest, args.flag("--all-refs"), args.flag("--staged"), args.flag("--fix"),
                        args.flag("--install-hook"), args.flag("--json"), ids, cwd,
                        java.util.Objects.requireNonNullElse(dev.taskid.shim.Shims.taskidCommand(), List.of("taskid")), out, err);
            case "log":
                return dev.taskid.cli.admin.LogCommand.run(rest, args.option("--since"), args.flag("--json"), ids.stateDir(),
                        out, err);
            case "stats":
                return dev.taskid.cli.admin.StatsCommand.run(rest, args.option("--since"), args.flag("--json"), ids, out, err);
            case "recover":
                return dev.taskid.cli.admin.RecoverCommand.run(rest, args.flag("--yes"), args.flag("--json"), ids, out, err);
            case "doctor":
                return dev.taskid.cli.admin.DoctorCommand.run(rest, args.flag("--json"), ids, out, err);
            default:
                throw new IllegalStateException(command.name());
        }
    }

    // ------------------------------------------------------------------ commands

    private int reserve(List<String> rest, Args args, TaskIds ids) throws Args.UsageException {
        if (rest.isEmpty() || rest.size() > 2) {
            throw new Args.UsageException("reserve takes PREFIX and an optional COUNT");
        }
        String format = args.flag("--verbose") ? "verbose" : args.option("--format") == null ? "seed000" : args.option("--format");
        if (!Set.of("seed000", "seed001", "verbose").contains(format)) {
            throw new Args.UsageException("--format must be seed000, seed001 or verbose");
        }
        long count = 1;
        if (rest.size() == 2) {
            try {
                count = Long.parseLong(rest.get(1));
            } catch (NumberFormatException e) {
                return fail(ErrorCode.INVALID_COUNT, "count must be a positive integer, got \"" + rest.get(1) + "\"",
                        false, Map.of());
            }
        }
        long started = System.nanoTime();
        Reply reply = callCatching(ids, new Request.Reserve(null, rest.get(0), count, args.option("--purpose"),
                args.option("--agent"), args.option("--key")));
        notice(reply);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        if (reply.response() instanceof Response.Failure f) {
            if (format.equals("seed001")) {
                out.println(new String(seed001Error(f, tookMs), StandardCharsets.UTF_8));
                out.flush();
            }
            return fail(f);
        }
        Response.Reserved r = (Response.Reserved) reply.response();
        byte[] line = json.write(g -> {
            g.writeStartObject();
            switch (format) {
                case "seed001":
                    g.writeStringField("status", "success");
                    JsonLines.writeValue(g, "allocated_numbers", r.numbers());
                    g.writeNumberField("allocation_count", r.numbers().size());
                    // the first number handed out is the seed's "next" before; with wrap it is mod N
                    g.writeNumberField("previous_next_number", r.numbers().get(0));
                    g.writeNumberField("new_next_number", r.next());
                    g.writeBooleanField("lock_acquired", true);
                    g.writeNumberField("lock_duration_ms", tookMs);
                    g.writeStringField("timestamp", JsonLines.timestamp(r.reservedAt()));
                    break;
                case "verbose":
                    JsonLines.writeValue(g, "ids", r.ids());
                    g.writeStringField("reservedAt", JsonLines.timestamp(r.reservedAt()));
                    g.writeStringField("prefix", r.prefix());
                    JsonLines.writeValue(g, "numbers", r.numbers());
                    g.writeNumberField("previous", r.previous());
                    g.writeNumberField("counter", r.counter());
                    g.writeNumberField("next", r.next());
                    g.writeBooleanField("replayed", r.replayed());
                    g.writeStringField("mode", reply.mode().wireName());
                    g.writeNumberField("lockWaitMs", reply.lockWaitMillis());
                    break;
                default:
                    JsonLines.writeValue(g, "ids", r.ids());
                    g.writeStringField("reservedAt", JsonLines.timestamp(r.reservedAt()));
            }
            g.writeEndObject();
        });
        out.println(new String(line, StandardCharsets.UTF_8));
        return OK;
    }

    /**
     * {@code ids.call}, with failures that arrive as exceptions (LOCK_TIMEOUT, STATE_CORRUPT)
     * turned into a failure reply, so that seed 001's callers still read them from stdout.
     */
    private static Reply callCatching(TaskIds ids, Request request) {
        try {
            return ids.call(request);
        } catch (TaskIdException e) {
            return new Reply(new Response.Failure(null, e.code(), e.getMessage(), e.code().retryByDefault(), e.details()),
                    dev.taskid.client.Mode.FALLBACK, 0, java.util.Optional.empty());
        }
    }

    private byte[] seed001Error(Response.Failure f, long tookMs) {
        return json.write(g -> {
            g.writeStartObject();
            g.writeStringField("status", "error");
            JsonLines.writeValue(g, "allocated_numbers", List.of());
            g.writeNumberField("allocation_count", 0);
            g.writeBooleanField("lock_acquired", f.code() != ErrorCode.LOCK_TIMEOUT);
            g.writeNumberField("lock_duration_ms", tookMs);
            g.writeStringField("timestamp", JsonLines.timestamp(java.time.Instant.now()));
            g.writeObjectFieldStart("error");
            g.writeStringField("code", f.code().name());
            g.writeStringField("message", f.message());
            JsonLines.writeValue(g, "details", f.details());
            g.writeEndObject();
            g.writeBooleanField("retry_suggested", f.retry());
            g.writeEndObject();
        });
    }

    private int init(List<String> files, TaskIds ids) {
        List<Path> paths = new ArrayList<>();
        if (files.isEmpty()) {
            paths.add(ids.stateDir().projectRoot().resolve("TASKS.md"));
        } else {
            files.forEach(f -> paths.add(cwd.resolve(f)));
        }
        StringBuilder text = new StringBuilder();
        for (Path p : paths) {
            try {
                text.append(Files.readString(p, StandardCharsets.UTF_8)).append('\n');
            } catch (NoSuchFileException e) {
                return fail(ErrorCode.SYSTEM_ERROR, "no such file: " + p, false, Map.of("file", p.toString()));
            } catch (IOException e) {
                return fail(ErrorCode.SYSTEM_ERROR, "cannot read " + p + ": " + e.getMessage(), false, Map.of());
            }
        }
        return raise(ids, new Request.Init(null, text.toString(), List.of(), Map.of()),
                paths.size() == 1 ? paths.get(0).getFileName().toString() : paths.size() + " files");
    }

    private int raise(TaskIds ids, Request.Init request, String source) {
        Reply reply = ids.call(request);
        notice(reply);
        if (reply.response() instanceof Response.Failure f) {
            return fail(f);
        }
        Response.Initialized r = (Response.Initialized) reply.response();
        if (jsonErrors) {
            printJson(r);
            return OK;
        }
        out.println("✅ Initialized counters from " + r.found() + " tasks in " + source + ":");
        if (r.after().isEmpty()) {
            out.println("   (no IDs of known prefixes found)");
        }
        for (Map.Entry<String, Long> e : r.after().entrySet()) {
            long before = r.before().getOrDefault(e.getKey(), 0L);
            out.printf("   %-8s → %d%s%n", e.getKey(), e.getValue(),
                    before == e.getValue() ? "   (unchanged)" : "   (was " + before + ")");
        }
        return OK;
    }

    private int show(List<String> rest, Args args, TaskIds ids) throws Args.UsageException {
        if (rest.size() > 1) {
            throw new Args.UsageException("show takes at most one PREFIX");
        }
        Reply reply = ids.call(new Request.Peek(null, rest.isEmpty() ? null : rest.get(0)));
        notice(reply);
        if (reply.response() instanceof Response.Failure f) {
            return fail(f);
        }
        Response.Counters r = (Response.Counters) reply.response();
        if (args.flag("--json")) {
            printJson(r);
        } else {
            r.counters().forEach((p, v) -> out.printf("%-8s %d%n", p, v));
        }
        return OK;
    }

    private int prefixes(Args args, TaskIds ids) {
        Reply reply = ids.call(new Request.Peek(null, null));
        if (reply.response() instanceof Response.Failure f) {
            return fail(f);
        }
        var prefixes = ((Response.Counters) reply.response()).counters().keySet();
        if (args.flag("--json")) {
            out.println(new String(json.write(g -> {
                g.writeStartObject();
                JsonLines.writeValue(g, "prefixes", prefixes);
                g.writeEndObject();
            }), StandardCharsets.UTF_8));
        } else {
            prefixes.forEach(out::println);
        }
        return OK;
    }

    private int validate(List<String> rest, Args args, TaskIds ids) throws Args.UsageException {
        if (rest.isEmpty()) {
            throw new Args.UsageException("validate takes one or more IDs");
        }
        Reply reply = ids.call(new Request.Validate(null, rest));
        if (reply.response() instanceof Response.Failure f) {
            return fail(f);
        }
        Response.Validation r = (Response.Validation) reply.response();
        if (args.flag("--json")) {
            printJson(r);
        } else {
            for (Response.Validation.Check c : r.results()) {
                out.println(c.id() + (c.issued() ? " issued" : " NOT issued: " + c.reason()));
            }
        }
        return r.allIssued() ? OK : NO;
    }

    private int set(List<String> rest, Args args, TaskIds ids) throws Args.UsageException {
        if (rest.size() != 2) {
            throw new Args.UsageException("set takes PREFIX and N");
        }
        long value = parseLong(rest.get(1), "N");
        Reply reply = ids.call(new Request.SetCounter(null, rest.get(0), value, args.flag("--force")));
        notice(reply);
        if (reply.response() instanceof Response.Failure f) {
            return fail(f);
        }
        Response.CounterSet r = (Response.CounterSet) reply.response();
        if (r.counter() < r.previous()) {
            err.println("taskid: warning: " + r.prefix() + " lowered from " + r.previous() + " to " + r.counter()
                    + ": IDs " + r.prefix() + "-" + (r.counter() + 1) + " to " + r.prefix() + "-" + r.previous()
                    + " will be handed out again");
        }
        if (args.flag("--json")) {
            printJson(r);
        } else {
            out.println(r.prefix() + ": " + r.previous() + " -> " + r.counter());
        }
        return OK;
    }

    private int importSeeds(List<String> rest, Args args, TaskIds ids) throws Args.UsageException {
        if (!rest.isEmpty()) {
            throw new Args.UsageException("import takes no arguments; name files with --from");
        }
        Path root = ids.stateDir().projectRoot();
        List<Path> files = new ArrayList<>();
        if (args.option("--from") != null) {
            files.add(cwd.resolve(args.option("--from")));
        } else {
            files.add(root.resolve(".claude/.task-id-counters.json"));
            files.add(root.resolve(".opencode/specs/state.json"));
        }
        Map<String, Long> floors = new TreeMap<>();
        List<String> used = new ArrayList<>();
        for (Path file : files) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                if (args.option("--from") != null) {
                    return fail(ErrorCode.SYSTEM_ERROR, "no such file: " + file, false, Map.of());
                }
                continue;
            } catch (IOException e) {
                return fail(ErrorCode.SYSTEM_ERROR, "cannot read " + file + ": " + e.getMessage(), false, Map.of());
            }
            Map<String, Object> obj;
            try {
                obj = json.readObject(bytes, 0, bytes.length, null);
            } catch (ProtocolException e) {
                return fail(ErrorCode.STATE_CORRUPT, file + " is not valid JSON: " + e.getMessage(), false, Map.of());
            }
            if (obj.get("counters") instanceof Map<?, ?> counters) {
                for (Map.Entry<?, ?> e : counters.entrySet()) {
                    if (e.getValue() instanceof Long n) {
                        floors.merge(String.valueOf(e.getKey()), n, Math::max);
                    }
                }
                used.add(file.toString());
            } else if (obj.get("next_project_number") instanceof Long next) {
                String prefix = args.option("--opencode-prefix");
                if (prefix == null) {
                    err.println("taskid: skipped " + file + " (next_project_number " + next
                            + "): say which prefix numbers it with --opencode-prefix PREFIX");
                    continue;
                }
                // next_project_number = the next number to hand out; with wrap, read in the first cycle
                int wrap = dev.taskid.state.Config.load(ids.stateDir().config(), json).wrap(prefix);
                floors.merge(prefix, dev.taskid.allocator.Wrap.floorForNext(next, wrap), Math::max);
                used.add(file.toString());
            } else {
                return fail(ErrorCode.STATE_CORRUPT, file + " has neither \"counters\" nor \"next_project_number\"",
                        false, Map.of());
            }
        }
        if (used.isEmpty()) {
            return fail(ErrorCode.SYSTEM_ERROR, "nothing to import: no seed state files found under " + root, false, Map.of());
        }
        return raise(ids, new Request.Init(null, null, List.of(), floors), String.join(", ", used));
    }

    private int archive(List<String> rest, Args args, TaskIds ids) throws Args.UsageException {
        Reply reply = ids.call(ArchiveCommand.request(rest, args.flag("--restore")));
        notice(reply);
        if (reply.response() instanceof Response.Failure f) {
            return fail(f);
        }
        if (args.flag("--json")) {
            printJson(reply.response());
        } else {
            out.print(ArchiveCommand.text((Response.Archived) reply.response()));
        }
        return OK;
    }

    private int daemon(List<String> rest, Args args, TaskIds ids) throws Args.UsageException {
        if (rest.size() != 1 || !Set.of("status", "stop").contains(rest.get(0))) {
            throw new Args.UsageException("daemon takes status or stop (run the daemon itself with the taskid launcher)");
        }
        var hello = ids.daemon();
        if (hello.isEmpty()) {
            err.println("taskid: no daemon is serving " + ids.stateDir() + " (socket " + ids.socket() + ")");
            return rest.get(0).equals("status") ? 3 : OK;
        }
        Response.Hello h = hello.get();
        if (rest.get(0).equals("status")) {
            if (args.flag("--json")) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("running", true);
                m.put("pid", h.pid());
                m.put("version", h.version());
                m.put("protocol", h.protocol());
                m.put("stateDir", h.stateDir());
                m.put("socket", ids.socket().toString());
                m.put("epoch", h.epoch());
                out.println(new String(json.write(g -> {
                    g.writeStartObject();
                    for (Map.Entry<String, Object> e : m.entrySet()) {
                        JsonLines.writeValue(g, e.getKey(), e.getValue());
                    }
                    g.writeEndObject();
                }), StandardCharsets.UTF_8));
            } else {
                out.println("taskid daemon " + h.version() + " running: pid " + h.pid() + ", state " + h.stateDir()
                        + ", socket " + ids.socket() + ", epoch " + h.epoch());
            }
            return OK;
        }
        var process = ProcessHandle.of(h.pid());
        if (process.isEmpty()) {
            return fail(ErrorCode.SYSTEM_ERROR, "daemon pid " + h.pid() + " is not visible from here; stop it where it runs",
                    false, Map.of());
        }
        process.get().destroy();
        try {
            process.get().onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            return fail(ErrorCode.SYSTEM_ERROR, "daemon pid " + h.pid() + " did not exit within 30 s after SIGTERM",
                    true, Map.of());
        }
        out.println("stopped taskid daemon pid " + h.pid());
        return OK;
    }

    private int systemd(List<String> rest, Args args, TaskIds ids) throws Args.UsageException {
        if (rest.size() != 1 || !Set.of("install", "uninstall").contains(rest.get(0))) {
            throw new Args.UsageException("systemd takes install or uninstall");
        }
        SystemdUnits units = new SystemdUnits(out, env);
        Path unitDir = args.option("--unit-dir") == null ? null : cwd.resolve(args.option("--unit-dir"));
        return rest.get(0).equals("install")
                ? units.install(ids.stateDir(), ids.socket(), args.flag("--system"), unitDir)
                : units.uninstall(ids.stateDir(), args.flag("--system"), unitDir);
    }

    // ------------------------------------------------------------------ helpers

    private void notice(Reply reply) {
        reply.notice().ifPresent(err::println);
    }

    private void printJson(Response r) {
        out.println(new String(json.encode(r), StandardCharsets.UTF_8));
    }

    private int fail(Response.Failure f) {
        return fail(f.code(), f.message(), f.retry(), f.details());
    }

    private int fail(ErrorCode code, String message, boolean retry, Map<String, Object> details) {
        if (jsonErrors) {
            err.println(new String(json.encode(new Response.Failure(null, code, message, retry, details)),
                    StandardCharsets.UTF_8));
        } else {
            err.println("taskid: " + code + ": " + message);
        }
        return code.exitStatus();
    }

    private static long parseLong(String s, String what) throws Args.UsageException {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new Args.UsageException(what + " must be an integer, got \"" + s + "\"");
        }
    }

    private static Command findCommand(List<String> words) {
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (GLOBAL_VALUED.contains(w)) {
                i++;
            } else if (!w.startsWith("-")) {
                return byName(w);
            }
        }
        return null;
    }

    private static Command byName(String name) {
        return COMMANDS.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }

    private static String help(Command c) {
        return "usage: taskid [--dir PATH] [--json] [--no-fallback] [--lock-timeout MS] " + c.synopsis() + "\n\n"
                + c.help() + "\n";
    }

    static String usage() {
        StringBuilder b = new StringBuilder();
        b.append("taskid ").append(Version.CURRENT).append(": unique task IDs for concurrent agents\n\n");
        b.append("usage: taskid [global options] COMMAND [ARGS]\n\ncommands:\n");
        for (Command c : COMMANDS) {
            b.append("  ").append(c.synopsis()).append('\n');
        }
        b.append("\nglobal options:\n")
                .append("  --dir PATH         state directory (default: .git/taskid in a git repository, else .taskid; env TASKID_DIR)\n")
                .append("  --json             JSON output, and errors as JSON on stderr\n")
                .append("  --no-fallback      fail (DAEMON_UNAVAILABLE) instead of using the file lock when no daemon answers\n")
                .append("  --lock-timeout MS  how long to wait for the state lock (default 30000 or config lockTimeoutMs)\n")
                .append("  --version, --help\n")
                .append("\nexit status: 0 ok; 1 validate found IDs not issued, inbox process rejected a task, check found a problem;\n")
                .append("2 usage or bad request; 3 invalid prefix, count,\n")
                .append("ID or counter value (daemon status: not running); 4 LOCK_TIMEOUT; 5 STATE_CORRUPT, STATE_MOVED or CONFIG_INVALID;\n")
                .append("6 SYSTEM_ERROR (disk full, read-only, permissions); 7 daemon problems (FORBIDDEN, BUSY,\n")
                .append("PROTOCOL_MISMATCH, DAEMON_UNAVAILABLE).\n");
        return b.toString();
    }
}
