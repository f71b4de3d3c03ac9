package dev.taskid.cli;

import dev.taskid.check.CheckCommand;
import dev.taskid.cli.admin.BackendCommand;
import dev.taskid.cli.admin.DoctorCommand;
import dev.taskid.cli.admin.LogCommand;
import dev.taskid.cli.admin.RecoverCommand;
import dev.taskid.cli.admin.StatsCommand;
import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Spec;
import dev.taskid.inbox.InboxCommand;
import dev.taskid.mcp.McpCommand;
import dev.taskid.options.Option;
import dev.taskid.shim.ShimCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The command model: every command, the global options and the exit statuses. The parser,
 * {@code --help}, the completion scripts and the manual page are rendered from it, and
 * CommandDocsTest checks the README's command and exit-status tables against it.
 */
final class Commands {
    /** Every command's name, in the order help lists them. */
    static final List<String> NAMES = List.of(
            "reserve",
            "init",
            "show",
            "prefixes",
            "validate",
            "set",
            "import",
            "archive",
            "daemon",
            "systemd",
            "mcp",
            "shim",
            "inbox",
            "check",
            "log",
            "stats",
            "recover",
            "backend",
            "doctor",
            "config",
            "socket-path",
            "completion",
            "help");

    static final Option DIR = Option.valued(
            "--dir",
            "PATH",
            "state directory (default: .git/taskid in a git repository, else .taskid; env TASKID_DIR)");
    static final Option JSON =
            Option.flag("--json", "JSON output on every exit path: results on stdout, errors as JSON on stderr");
    static final Option NO_FALLBACK = Option.flag(
            "--no-fallback", "fail (DAEMON_UNAVAILABLE) instead of using the file lock when no daemon answers");
    static final Option LOCK_TIMEOUT = Option.valued(
            "--lock-timeout", "MS", "how long to wait for the state lock (default 30000 or config lockTimeoutMs)");
    static final Option VERSION = Option.flag("--version", "print the version");
    static final Option HELP = Option.flag("--help", "print this help (taskid COMMAND --help: that command's)")
            .withAlias("-h");

    /** The options every command accepts (before or after its name). */
    static final List<Option> GLOBAL = List.of(DIR, JSON, NO_FALLBACK, LOCK_TIMEOUT, VERSION, HELP);

    /** One row of README "Exit status". */
    record ExitStatus(int status, String meaning) {}

    /** The exit statuses (README "Exit status"): for the help and the manual page. */
    static final List<ExitStatus> EXIT_STATUS = List.of(
            new ExitStatus(0, "success"),
            new ExitStatus(
                    1,
                    "no, without an error: validate found IDs not issued, inbox process rejected a task, check found"
                            + " a problem, doctor found a failure, recover showed a plan, log ID found no entry, import found nothing"),
            new ExitStatus(2, "usage error or BAD_REQUEST, UNKNOWN_OP, LINE_TOO_LONG"),
            new ExitStatus(
                    3,
                    "INVALID_PREFIX, INVALID_COUNT, INVALID_ID, COUNTER_OVERFLOW, COUNTER_DECREASE, KEY_REUSED,"
                            + " NUMBER_CONFLICT; daemon status: not running"),
            new ExitStatus(4, "LOCK_TIMEOUT (retry)"),
            new ExitStatus(5, "STATE_CORRUPT (run taskid recover), STATE_MOVED, CONFIG_INVALID"),
            new ExitStatus(6, "SYSTEM_ERROR: disk full, read-only, permissions, no Java 17+ (retry when fixed)"),
            new ExitStatus(
                    7,
                    "FORBIDDEN, BUSY, PROTOCOL_MISMATCH, DAEMON_UNAVAILABLE, BACKEND_UNAVAILABLE (the shared backend: retry)"));

    private Commands() {}

    /**
     * The command called {@code name}, made on the spot: a call loads its own command's class
     * and no other (docs/BENCHMARKS.md, "CLI start-up, session 7"). A string switch compiles to
     * a hash lookup, no invokedynamic. CommandsTest checks it against {@link #NAMES}.
     */
    static Optional<Command> byName(String name) {
        Command c = switch (name) {
            case "reserve" -> new ReserveCommand();
            case "init" -> new InitCommand();
            case "show" -> new ShowCommand();
            case "prefixes" -> new PrefixesCommand();
            case "validate" -> new ValidateCommand();
            case "set" -> new SetCommand();
            case "import" -> new ImportCommand();
            case "archive" -> new ArchiveCommand();
            case "daemon" -> new DaemonCommand();
            case "systemd" -> new SystemdCommand();
            case "mcp" -> new McpCommand();
            case "shim" -> new ShimCommand();
            case "inbox" -> new InboxCommand();
            case "check" -> new CheckCommand();
            case "log" -> new LogCommand();
            case "stats" -> new StatsCommand();
            case "recover" -> new RecoverCommand();
            case "backend" -> new BackendCommand();
            case "doctor" -> new DoctorCommand();
            case "config" -> new ConfigCommand();
            case "socket-path" -> new SocketPathCommand();
            case "completion" -> new CompletionCommand();
            case "help" -> new HelpCommand();
            default -> null;
        };
        return Optional.ofNullable(c);
    }

    /** Every command, in {@link #NAMES}' order (help, completion, the manual page). */
    static List<Command> all() {
        List<Command> all = new ArrayList<>(NAMES.size());
        for (String name : NAMES) {
            all.add(byName(name).orElseThrow(() -> new IllegalStateException("no command " + name)));
        }
        return List.copyOf(all);
    }

    static List<Spec> specs() {
        return all().stream().map(Command::spec).toList();
    }

    static List<String> names() {
        return NAMES;
    }

    /** The global options that go with a command (not --version and --help), as its usage line shows them. */
    static String globalUsage() {
        StringBuilder b = new StringBuilder();
        for (Option o : List.of(DIR, JSON, NO_FALLBACK, LOCK_TIMEOUT)) {
            b.append('[').append(o.usage()).append("] ");
        }
        return b.toString();
    }

    /** {@code taskid CMD --help}. */
    static String help(Command c) {
        return "usage: taskid " + globalUsage() + c.spec().synopsis() + "\n\n"
                + c.spec().help() + "\n";
    }

    /** {@code taskid --help}. */
    static String usage(String version) {
        StringBuilder b = new StringBuilder();
        b.append("taskid ").append(version).append(": unique task IDs for concurrent agents\n\n");
        b.append("usage: taskid [global options] COMMAND [ARGS]\n\ncommands:\n");
        for (Spec s : specs()) {
            b.append("  ").append(s.synopsis()).append('\n');
        }
        b.append("\nglobal options:\n");
        for (Option o : GLOBAL) {
            b.append(String.format("  %-18s %s%n", o.usage(), o.help()));
        }
        b.append("\nexit status:\n");
        for (ExitStatus e : EXIT_STATUS) {
            b.append("  ").append(e.status()).append("  ").append(e.meaning()).append('\n');
        }
        return b.toString();
    }
}
