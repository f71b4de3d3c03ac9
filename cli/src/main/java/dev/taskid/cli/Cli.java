package dev.taskid.cli;

import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.json.Timestamps;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.ResponseCodec;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.protocol.Version;
import dev.taskid.state.Config;
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
    private final Json json = new Json();
    private final ResponseCodec responses = new ResponseCodec();
    private boolean jsonErrors;

    Cli(PrintStream out, PrintStream err, Path cwd, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.cwd = cwd;
        this.env = env;
    }

    /** One command and what it accepts. */
    record Command(String name, String synopsis, String help, Set<String> flags, Set<String> valued) {
    }

    static final List<Command> COMMANDS = List.of(
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
                    Set.of("--yes", "--all-active"), Set.of()),
            new Command("backend", dev.taskid.cli.admin.BackendCommand.SYNOPSIS, dev.taskid.cli.admin.BackendCommand.HELP,
                    Set.of(), Set.of()),
            new Command("doctor", dev.taskid.cli.admin.DoctorCommand.SYNOPSIS, dev.taskid.cli.admin.DoctorCommand.HELP,
                    Set.of(), Set.of()),
            new Command("socket-path", "socket-path [--json]",
                    "Print the daemon's socket for this state directory, whether or not a daemon runs (for other clients,\n"
                            + "like gpgconf --list-dirs agent-socket).",
                    Set.of(), Set.of()),
            new Command("completion", "completion bash|zsh|fish",
                    "Print a shell completion script, e.g. `source <(taskid completion bash)` in ~/.bashrc,\n"
                            + "`taskid completion fish > ~/.config/fish/completions/taskid.fish`.",
                    Set.of(), Set.of()),
            new Command("help", "help [COMMAND]", "Show help.", Set.of(), Set.of()));

    int run(String[] argv) {
        List<String> words = Arrays.asList(argv);
        Command command = findCommand(words);
        // Before parsing, so that a line that does not parse is reported as JSON too.
        int end = words.indexOf("--");
        jsonErrors = (end < 0 ? words : words.subList(0, end)).contains("--json");
        try {
            Set<String> flags = new java.util.HashSet<>(GLOBAL_FLAGS);
            Set<String> valued = new java.util.HashSet<>(GLOBAL_VALUED);
            if (command != null) {
                flags.addAll(command.flags());
                valued.addAll(command.valued());
            }
            Args args = Args.parse(words, flags, valued);
            if (args.flag("--version")) {
                out.println("taskid " + Version.CURRENT);
                return OK;
            }
            boolean help = args.flag("--help") || args.flag("-h");
            if (command == null) {
                if (help) {
                    out.print(usage());
                    return OK;
                }
                throw new UsageException(args.positionals().isEmpty() ? "no command given"
                        : "unknown command \"" + args.positionals().get(0) + "\""
                                + Suggest.hint(args.positionals().get(0), COMMANDS.stream().map(Command::name).toList()));
            }
            if (help) {
                out.print(help(command));
                return OK;
            }
            List<String> rest = args.positionals().subList(1, args.positionals().size());
            if (command.name().equals("completion")) {
                // Needs no state directory: it only prints what the command table says.
                if (rest.size() != 1 || !Completion.SHELLS.contains(rest.get(0))) {
                    throw new UsageException("completion takes one of " + String.join(", ", Completion.SHELLS));
                }
                out.print(Completion.script(rest.get(0), GLOBAL_FLAGS, GLOBAL_VALUED));
                return OK;
            }
            if (command.name().equals("help")) {
                Command about = rest.isEmpty() ? null : byName(rest.get(0));
                out.print(about == null ? usage() : help(about));
                return OK;
            }
            return execute(command, rest, args);
        } catch (UsageException e) {
            String synopsis = e.synopsis() != null ? e.synopsis() : command == null ? "COMMAND ..." : command.synopsis();
            if (jsonErrors) {
                return fail(ErrorCode.BAD_REQUEST, e.getMessage(), false, Map.of("usage", "taskid " + synopsis));
            }
            err.println("taskid: " + e.getMessage());
            err.println("usage: taskid " + synopsis + "   (taskid --help)");
            return USAGE;
        } catch (TaskIdException e) {
            return fail(e.code(), e.getMessage(), e.code().retryByDefault(), e.details());
        }
    }

    private int execute(Command command, List<String> rest, Args args) {
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

    private int dispatch(Command command, List<String> rest, Args args, TaskIds ids) {
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
                return dev.taskid.cli.admin.RecoverCommand.run(rest, args.flag("--yes"), args.flag("--all-active"),
                        args.flag("--json"), ids, out, err);
            case "backend":
                return dev.taskid.cli.admin.BackendCommand.run(rest, args.flag("--json"), ids, out, err);
            case "socket-path":
                if (!rest.isEmpty()) {
                    throw new UsageException("socket-path takes no arguments");
                }
                if (args.flag("--json")) {
                    printFields(Map.of("socket", ids.socket().toString()));
                } else {
                    out.println(ids.socket());
                }
                return OK;
            case "doctor":
                return dev.taskid.cli.admin.DoctorCommand.run(rest, args.flag("--json"), ids, out, err);
            default:
                throw new IllegalStateException(command.name());
        }
    }

    // ------------------------------------------------------------------ commands

    private int reserve(List<String> rest, Args args, TaskIds ids) {
        if (rest.isEmpty() || rest.size() > 2) {
            throw new UsageException("reserve takes PREFIX and an optional COUNT");
        }
        String format = args.flag("--verbose") ? "verbose" : args.option("--format") == null ? "seed000" : args.option("--format");
        if (!Set.of("seed000", "seed001", "verbose").contains(format)) {
            throw new UsageException("--format must be seed000, seed001 or verbose");
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
                    Json.writeValue(g, "allocated_numbers", r.numbers());
                    g.writeNumberField("allocation_count", r.numbers().size());
                    // the first number handed out is the seed's "next" before; with wrap it is mod N
                    g.writeNumberField("previous_next_number", r.numbers().get(0));
                    g.writeNumberField("new_next_number", r.next());
                    g.writeBooleanField("lock_acquired", true);
                    g.writeNumberField("lock_duration_ms", tookMs);
                    g.writeStringField("timestamp", Timestamps.format(r.reservedAt()));
                    break;
                case "verbose":
                    Json.writeValue(g, "ids", r.ids());
                    g.writeStringField("reservedAt", Timestamps.format(r.reservedAt()));
                    g.writeStringField("prefix", r.prefix());
                    Json.writeValue(g, "numbers", r.numbers());
                    g.writeNumberField("previous", r.previous());
                    g.writeNumberField("counter", r.counter());
                    g.writeNumberField("next", r.next());
                    g.writeBooleanField("replayed", r.replayed());
                    g.writeStringField("mode", reply.mode().wireName());
                    g.writeNumberField("lockWaitMs", reply.lockWaitMillis());
                    break;
                default:
                    Json.writeValue(g, "ids", r.ids());
                    g.writeStringField("reservedAt", Timestamps.format(r.reservedAt()));
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
            Json.writeValue(g, "allocated_numbers", List.of());
            g.writeNumberField("allocation_count", 0);
            g.writeBooleanField("lock_acquired", f.code() != ErrorCode.LOCK_TIMEOUT);
            g.writeNumberField("lock_duration_ms", tookMs);
            g.writeStringField("timestamp", Timestamps.format(java.time.Instant.now()));
            g.writeObjectFieldStart("error");
            g.writeStringField("code", f.code().name());
            g.writeStringField("message", f.message());
            Json.writeValue(g, "details", f.details());
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
        // Scanned here, floors sent: the daemon reads no file a client names, and floors fit a line.
        InitFloors.Scan scan = InitFloors.scan(paths, Config.load(ids.stateDir().config(), json).prefixes());
        return raise(ids, new Request.Init(null, null, scan.floors()), scan.found(),
                paths.size() == 1 ? paths.get(0).getFileName().toString() : paths.size() + " files");
    }

    /** Sends {@code request}; {@code found} IDs were seen by the client's own scan. */
    private int raise(TaskIds ids, Request.Init request, int found, String source) {
        return raised(ids.call(request), found, source);
    }

    private int raised(Reply reply, int found, String source) {
        notice(reply);
        if (reply.response() instanceof Response.Failure f) {
            return fail(f);
        }
        Response.Initialized answer = (Response.Initialized) reply.response();
        Response.Initialized r = new Response.Initialized(answer.id(), answer.found() + found, answer.before(), answer.after());
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

    private int show(List<String> rest, Args args, TaskIds ids) {
        if (rest.size() > 1) {
            throw new UsageException("show takes at most one PREFIX");
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
            printFields(Map.of("prefixes", prefixes));
        } else {
            prefixes.forEach(out::println);
        }
        return OK;
    }

    private int validate(List<String> rest, Args args, TaskIds ids) {
        if (rest.isEmpty()) {
            throw new UsageException("validate takes one or more IDs");
        }
        Reply reply = TaskIds.validateAll(rest, ids::call);
        notice(reply); // e.g. answered from a rewound counters.json, raised to what was issued
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

    private int set(List<String> rest, Args args, TaskIds ids) {
        if (rest.size() != 2) {
            throw new UsageException("set takes PREFIX and N");
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

    private int importSeeds(List<String> rest, Args args, TaskIds ids) {
        if (!rest.isEmpty()) {
            throw new UsageException("import takes no arguments; name files with --from");
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
        Map<String, java.util.Set<Long>> seedActive = new TreeMap<>();
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
                obj = json.readObject(bytes, 0, bytes.length);
            } catch (JsonException e) {
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
                activeProjects(obj.get("active_projects")).ifPresent(a -> seedActive.put(prefix, a));
                used.add(file.toString());
            } else {
                return fail(ErrorCode.STATE_CORRUPT, file + " has neither \"counters\" nor \"next_project_number\"",
                        false, Map.of());
            }
        }
        if (used.isEmpty()) {
            // Not an error of the disk or of the state: there is simply nothing to do (exit 1, like validate's "no").
            if (args.flag("--json")) {
                printFields(Map.of("imported", List.of()));
            }
            err.println("taskid: nothing to import: none of " + files.stream().map(Path::toString).toList()
                    + " holds seed counters");
            return NO;
        }
        Reply reply = ids.call(new Request.Init(null, null, floors));
        if (reply.response() instanceof Response.Initialized r) {
            for (Map.Entry<String, java.util.Set<Long>> e : seedActive.entrySet()) {
                int archived = archiveInactive(ids, r, e.getKey(), e.getValue());
                if (archived < 0) {
                    return -archived;
                }
            }
        }
        return raised(reply, 0, String.join(", ", used));
    }

    /** The numbers of seed 001's {@code active_projects} (numbers, or objects with one), if it can be read. */
    private static java.util.Optional<java.util.Set<Long>> activeProjects(Object value) {
        if (!(value instanceof List<?> list)) {
            return java.util.Optional.empty();
        }
        java.util.Set<Long> out = new java.util.TreeSet<>();
        for (Object o : list) {
            Object n = o instanceof Map<?, ?> m ? (m.containsKey("number") ? m.get("number") : m.get("project_number")) : o;
            if (n instanceof Long l) {
                out.add(l);
            } else if (n instanceof String t && t.matches("\\d{1,15}")) {
                out.add(Long.parseLong(t));
            } else {
                return java.util.Optional.empty(); // unknown shape: every imported number stays active
            }
        }
        return java.util.Optional.of(out);
    }

    /**
     * After an import raised a wrapped prefix from 0: init marked every number of the seed's
     * positions active (nobody knew which were in use); the seed's {@code active_projects}
     * does, so the others are archived. Only from 0: a prefix taskid already handed numbers of
     * keeps them all active (its own holders are not in the seed's list). Returns the count, or
     * a negative exit status.
     */
    private int archiveInactive(TaskIds ids, Response.Initialized r, String prefix, java.util.Set<Long> active) {
        long before = r.before().getOrDefault(prefix, 0L);
        long after = r.after().getOrDefault(prefix, 0L);
        int wrap = dev.taskid.state.Config.load(ids.stateDir().config(), json).wrap(prefix);
        if (wrap == 0 || before != 0 || after <= before) {
            return 0;
        }
        java.util.Set<Long> done = new java.util.TreeSet<>();
        for (long position = Math.max(1, after - wrap + 1); position <= after; position++) {
            long number = dev.taskid.allocator.Wrap.number(position, wrap);
            if (!active.contains(number)) {
                done.add(number);
            }
        }
        if (done.isEmpty()) {
            return 0;
        }
        Reply archived = ids.call(new Request.Archive(null, prefix, List.copyOf(done), false));
        if (archived.response() instanceof Response.Failure f) {
            return -fail(f);
        }
        return done.size();
    }

    private int archive(List<String> rest, Args args, TaskIds ids) {
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

    private int daemon(List<String> rest, Args args, TaskIds ids) {
        if (rest.size() != 1 || !Set.of("status", "stop").contains(rest.get(0))) {
            throw new UsageException("daemon takes status or stop (run the daemon itself with the taskid launcher)");
        }
        boolean status = rest.get(0).equals("status");
        var hello = ids.daemon();
        if (hello.isEmpty()) {
            if (args.flag("--json")) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("running", false);
                m.put("stateDir", ids.stateDir().dir().toString());
                m.put("socket", ids.socket().toString());
                printFields(m);
            }
            err.println("taskid: no daemon is serving " + ids.stateDir() + " (socket " + ids.socket() + ")");
            return status ? 3 : OK;
        }
        Response.Hello h = hello.get();
        if (status) {
            if (args.flag("--json")) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("running", true);
                m.put("pid", h.pid());
                m.put("version", h.version());
                m.put("protocol", h.protocol());
                m.put("stateDir", h.stateDir());
                m.put("socket", ids.socket().toString());
                m.put("epoch", h.epoch());
                printFields(m);
            } else {
                out.println("taskid daemon " + h.version() + " running: pid " + h.pid() + ", state " + h.stateDir()
                        + ", socket " + ids.socket() + ", epoch " + h.epoch());
            }
            return OK;
        }
        ProcessHandle process = ids.daemonProcess(h);
        process.destroy();
        try {
            process.onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            return fail(ErrorCode.SYSTEM_ERROR, "daemon pid " + h.pid() + " did not exit within 30 s after SIGTERM",
                    true, Map.of("pid", h.pid()));
        }
        if (args.flag("--json")) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("running", false);
            m.put("stopped", true);
            m.put("pid", h.pid());
            printFields(m);
        } else {
            out.println("stopped taskid daemon pid " + h.pid());
        }
        return OK;
    }

    private int systemd(List<String> rest, Args args, TaskIds ids) {
        if (rest.size() != 1 || !Set.of("install", "uninstall").contains(rest.get(0))) {
            throw new UsageException("systemd takes install or uninstall");
        }
        SystemdUnits units = new SystemdUnits(out, env);
        Path unitDir = args.option("--unit-dir") == null ? null : cwd.resolve(args.option("--unit-dir"));
        boolean system = args.flag("--system");
        // --system: the system-wide daemon's directory, not this repository's, unless one was named.
        boolean named = args.option("--dir") != null || (env.get("TASKID_DIR") != null && !env.get("TASKID_DIR").isEmpty());
        StateDir dir = system && !named ? StateDir.of(SystemdUnits.SYSTEM_STATE) : ids.stateDir();
        return rest.get(0).equals("install")
                ? units.install(dir, ids.socket(), system, unitDir)
                : units.uninstall(dir, system, unitDir);
    }

    // ------------------------------------------------------------------ helpers

    private void notice(Reply reply) {
        reply.notice().ifPresent(err::println);
    }

    /** {@code fields} as one JSON object on stdout, in their order. */
    private void printFields(Map<String, ?> fields) {
        out.println(new String(json.write(g -> {
            g.writeStartObject();
            for (Map.Entry<String, ?> e : fields.entrySet()) {
                Json.writeValue(g, e.getKey(), e.getValue());
            }
            g.writeEndObject();
        }), StandardCharsets.UTF_8));
    }

    private void printJson(Response r) {
        out.println(new String(responses.encode(r), StandardCharsets.UTF_8));
    }

    private int fail(Response.Failure f) {
        return fail(f.code(), f.message(), f.retry(), f.details());
    }

    private int fail(ErrorCode code, String message, boolean retry, Map<String, Object> details) {
        if (jsonErrors) {
            err.println(new String(responses.encode(new Response.Failure(null, code, message, retry, details)),
                    StandardCharsets.UTF_8));
        } else {
            err.println("taskid: " + code + ": " + message);
        }
        return code.exitStatus();
    }

    private static long parseLong(String s, String what) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new UsageException(what + " must be an integer, got \"" + s + "\"");
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

    /** The global options and what they do: for the help and the manual page. */
    static final List<String[]> GLOBAL_OPTIONS = List.of(
            new String[] {"--dir PATH", "state directory (default: .git/taskid in a git repository, else .taskid; env TASKID_DIR)"},
            new String[] {"--json", "JSON output on every exit path: results on stdout, errors as JSON on stderr"},
            new String[] {"--no-fallback", "fail (DAEMON_UNAVAILABLE) instead of using the file lock when no daemon answers"},
            new String[] {"--lock-timeout MS", "how long to wait for the state lock (default 30000 or config lockTimeoutMs)"},
            new String[] {"--version", "print the version"},
            new String[] {"--help", "print this help (taskid COMMAND --help: that command's)"});

    /** The exit statuses (README "Exit status"): for the help and the manual page. */
    static final List<String[]> EXIT_STATUS = List.of(
            new String[] {"0", "success"},
            new String[] {"1", "no, without an error: validate found IDs not issued, inbox process rejected a task, check found"
                    + " a problem, doctor found a failure, recover showed a plan, log ID found no entry, import found nothing"},
            new String[] {"2", "usage error or BAD_REQUEST, UNKNOWN_OP, LINE_TOO_LONG"},
            new String[] {"3", "INVALID_PREFIX, INVALID_COUNT, INVALID_ID, COUNTER_OVERFLOW, COUNTER_DECREASE, KEY_REUSED,"
                    + " NUMBER_CONFLICT; daemon status: not running"},
            new String[] {"4", "LOCK_TIMEOUT (retry)"},
            new String[] {"5", "STATE_CORRUPT (run taskid recover), STATE_MOVED, CONFIG_INVALID"},
            new String[] {"6", "SYSTEM_ERROR: disk full, read-only, permissions, no Java 17+ (retry when fixed)"},
            new String[] {"7", "FORBIDDEN, BUSY, PROTOCOL_MISMATCH, DAEMON_UNAVAILABLE, BACKEND_UNAVAILABLE (the shared backend: retry)"});

    static String usage() {
        StringBuilder b = new StringBuilder();
        b.append("taskid ").append(Version.CURRENT).append(": unique task IDs for concurrent agents\n\n");
        b.append("usage: taskid [global options] COMMAND [ARGS]\n\ncommands:\n");
        for (Command c : COMMANDS) {
            b.append("  ").append(c.synopsis()).append('\n');
        }
        b.append("\nglobal options:\n");
        for (String[] o : GLOBAL_OPTIONS) {
            b.append(String.format("  %-18s %s%n", o[0], o[1]));
        }
        b.append("\nexit status:\n");
        for (String[] e : EXIT_STATUS) {
            b.append("  ").append(e[0]).append("  ").append(e[1]).append('\n');
        }
        return b.toString();
    }
}
