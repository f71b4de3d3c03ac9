package dev.taskid.cli;

import dev.taskid.cli.command.Spec;
import dev.taskid.options.Option;
import java.util.List;

/**
 * The manual page taskid(1), rendered from the command table, so that it says what
 * {@code taskid --help} says. docs/taskid.1 is this output (ManPageTest keeps it so).
 */
final class ManPage {
    private ManPage() {}

    static String render(String version) {
        StringBuilder b = new StringBuilder();
        b.append(".\\\" Generated from the taskid command table (dev.taskid.cli.ManPage); do not edit.\n");
        b.append(".TH TASKID 1 \"\" \"taskid ").append(version).append("\" \"User Commands\"\n");
        b.append(".SH NAME\ntaskid \\- unique, human\\-readable task IDs for many concurrent AI agents\n");
        b.append(".SH SYNOPSIS\n.B taskid\n[\\fIglobal options\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n");
        b.append(".SH DESCRIPTION\n")
                .append(text("taskid hands out task IDs (SEC-20, UX-67..UX-71) to many coding agents"
                        + " working in one repository at once: atomic, durable, never the same ID twice, across processes,"
                        + " crashes, restarts, daemon and fallback. A daemon on a Unix socket keeps the counters when one runs"
                        + " (taskid daemon, or the systemd units); otherwise every call takes an OS file lock on the same state."
                        + " Results go to stdout, diagnostics to stderr."))
                .append('\n');
        b.append(".SH COMMANDS\n");
        for (Spec c : Commands.specs()) {
            b.append(".TP\n.B ").append(text(c.synopsis())).append('\n');
            b.append(text(c.help().replace("\n", " "))).append('\n');
            if (!c.options().isEmpty()) {
                b.append(".RS\n");
                for (Option o : c.options()) {
                    b.append(".TP\n.B ")
                            .append(text(o.usage()))
                            .append('\n')
                            .append(text(o.help()))
                            .append('\n');
                }
                b.append(".RE\n");
            }
        }
        b.append(".SH OPTIONS\nGlobal options go before the command.\n");
        for (Option o : Commands.GLOBAL) {
            b.append(".TP\n.B ")
                    .append(text(o.usage()))
                    .append('\n')
                    .append(text(o.help()))
                    .append('\n');
        }
        b.append(".SH EXIT STATUS\n");
        for (Commands.ExitStatus e : Commands.EXIT_STATUS) {
            b.append(".TP\n.B ")
                    .append(e.status())
                    .append('\n')
                    .append(text(e.meaning()))
                    .append('\n');
        }
        b.append(".SH ENVIRONMENT\n");
        for (String[] e : List.of(
                new String[] {"TASKID_DIR", "the state directory, as --dir"},
                new String[] {"TASKID_BIN", "the taskid command the seed-script shims run when no daemon answers"},
                new String[] {"JAVA_HOME", "the Java (17 or newer) to run; else java on PATH"},
                new String[] {"TASKID_JAVA_OPTS, TASKID_DAEMON_JAVA_OPTS", "extra JVM options for the CLI, the daemon"},
                new String[] {"TASKID_NO_CDS", "run without a start-up class-data archive"},
                new String[] {"TASKID_LOG_LEVEL", "the daemon's log level (INFO; DEBUG for more, WARN for less)"},
                new String[] {"XDG_CONFIG_HOME", "where the per-user config is (default ~/.config)"})) {
            b.append(".TP\n.B ")
                    .append(text(e[0]))
                    .append('\n')
                    .append(text(e[1]))
                    .append('\n');
        }
        b.append(".SH FILES\n");
        for (String[] f : List.of(
                new String[] {
                    ".taskid/config.json",
                    "optional configuration: prefixes, maxBatch, lockTimeoutMs, allowedUids,"
                            + " prefixOptions (width, wrap, bare), audit"
                },
                new String[] {
                    "$XDG_CONFIG_HOME/taskid/config.json",
                    "optional per-user preferences: lockTimeoutMs, fallback,"
                            + " agent, json (nothing that decides which IDs are handed out); taskid config show says what applies"
                },
                new String[] {
                    "counters.json, audit.log, daemon.sock, lock",
                    "the state, the audit trail, the daemon's" + " socket and the state lock, in the state directory"
                },
                new String[] {
                    "/usr/lib/systemd/user/taskid@.socket, taskid@.service",
                    "per-repository socket-activated"
                            + " user units: systemctl --user enable --now taskid@$(systemd-escape --path $PWD).socket"
                },
                new String[] {
                    "/usr/lib/systemd/system/taskid.service",
                    "one system-wide daemon with its state in" + " /var/lib/taskid"
                })) {
            b.append(".TP\n.I ")
                    .append(text(f[0]))
                    .append('\n')
                    .append(text(f[1]))
                    .append('\n');
        }
        b.append(".SH SEE ALSO\n")
                .append(text("README.md and docs/ (PROTOCOL.md, CLIENTS.md, ARCHITECTURE.md) in"
                        + " /usr/share/doc/taskid or the source tree."))
                .append('\n');
        return b.toString();
    }

    /** Text safe in roff: backslashes escaped, hyphens of options kept literal, no line starting a request. */
    private static String text(String s) {
        String t = s.replace("\\", "\\e").replace("-", "\\-");
        return t.startsWith(".") || t.startsWith("'") ? "\\&" + t : t;
    }
}
