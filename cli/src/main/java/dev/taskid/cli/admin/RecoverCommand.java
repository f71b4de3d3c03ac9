package dev.taskid.cli.admin;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Output;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.options.Option;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.AuditEntry;
import dev.taskid.state.AuditLog;
import dev.taskid.state.Config;
import dev.taskid.state.Recovery;
import dev.taskid.state.StateFile;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code taskid recover [--yes] [--json]}: rebuilds an unreadable counters.json from the audit
 * log, TASKS.md and counters.json.prev, each counter at the highest any of them knows. Shows the
 * plan; writes only with {@code --yes}, holding the state lock.
 *
 * <p>Exit status: 0 recovered, or nothing to recover; 1 a plan was shown and nothing written
 * (no --yes); the usual statuses for errors (4 LOCK_TIMEOUT while a daemon or writer holds the
 * lock, 6 SYSTEM_ERROR).
 */
public final class RecoverCommand implements Command {
    private static final String SYNOPSIS = "recover [--yes] [--all-active] [--json]";
    private static final String HELP =
            "After STATE_CORRUPT: rebuild .taskid/counters.json from the highest of the audit log, the IDs in TASKS.md and\n"
                    + "counters.json.prev (the version before the last write), so no counter goes below any of them. Shows the\n"
                    + "plan and writes nothing without --yes (exit 1). The unreadable file is kept as counters.json.corrupt-<time>;\n"
                    + "a readable one that was rewound (below what the audit log says was issued) has its counters raised.\n"
                    + "Active numbers of wrapped prefixes are replayed from the audit log; when it cannot tell (rotated away, torn\n"
                    + "lines) recover refuses, and --all-active marks every number those prefixes handed out active instead.\n"
                    + "Needs the state lock: no daemon can run on an unreadable file, and no other writer runs meanwhile.";

    private static final Spec SPEC = new Spec(
            "recover",
            SYNOPSIS,
            HELP,
            List.of(
                    Option.flag("--yes", "write the plan (without it: only show it)"),
                    Option.flag(
                            "--all-active",
                            "mark every number of a wrapped prefix active (when the log cannot tell which are)")));

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        List<String> rest = c.rest();
        boolean yes = c.flag("--yes");
        boolean allActive = c.flag("--all-active");
        TaskIds ids = c.ids();
        Output o = c.output();
        if (!rest.isEmpty()) {
            throw new UsageException("recover takes no arguments", SYNOPSIS);
        }
        Json codec = new Json();
        Config config = Config.load(ids.stateDir().config(), codec);
        try {
            // Readable or missing needs no lock to say so (files are replaced by rename), so this
            // answers while a daemon holds the lock too.
            StateFile file = new StateFile(ids.stateDir().counters(), codec, java.time.Clock.systemUTC());
            Recovery.Plan first = new Recovery(ids.stateDir(), file, config, codec).plan();
            if (!first.needed()) {
                report(
                        o,
                        first,
                        false,
                        "nothing to recover: " + file.path()
                                + (first.current().exists()
                                        ? " is readable"
                                        : " does not exist yet (the next reservation creates it)"));
                return Context.OK;
            }
            // A running daemon holds the lock for its whole life: say so now rather than after the lock wait.
            Optional<Response.Hello> daemon = ids.daemon();
            if (daemon.isPresent()) {
                return o.fail(
                        ErrorCode.LOCK_TIMEOUT,
                        "the daemon (pid " + daemon.get().pid() + ") holds the state lock of "
                                + ids.stateDir().dir()
                                + ": stop it (taskid daemon stop), then run taskid recover again",
                        Map.of("holderPid", daemon.get().pid()));
            }
            return ids.withStateLocked("recover", store -> {
                Recovery recovery = new Recovery(ids.stateDir(), store.file(), config, codec);
                Recovery.Plan plan = recovery.plan();
                if (!yes) {
                    report(o, plan, false, "nothing written; run `taskid recover --yes` to write these counters");
                    return Context.NO;
                }
                List<AuditEntry> lines = recovery.apply(
                        plan, store, AuditEntry.Requester.self(AuditLog.FALLBACK, -1), Instant.now(), allActive);
                report(
                        o,
                        plan,
                        true,
                        "recovered " + store.file().path() + " (" + lines.size() + " counters); "
                                + (plan.rewound().isEmpty()
                                        ? "the unreadable version is kept as counters.json.corrupt-*"
                                        : "rewound counters raised to the highest issued, none lowered"));
                return Context.OK;
            });
        } catch (TaskIdException e) {
            return o.fail(e.code(), e.getMessage(), e.details());
        }
    }

    private static void report(Output o, Recovery.Plan plan, boolean written, String summary) {
        if (o.json()) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (Recovery.Row r : plan.rows()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("prefix", r.prefix());
                m.put("auditLog", orNull(r.audit()));
                m.put("tasksMd", orNull(r.tasks()));
                m.put("backup", orNull(r.backup()));
                m.put("counter", r.result());
                rows.add(m);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("needed", plan.needed());
            m.put("written", written);
            m.put("current", describe(plan));
            m.put("backup", describe(plan.backup()));
            m.put("auditLines", plan.auditLines());
            m.put("auditUnreadableLines", plan.auditUnreadable());
            m.put("tasksMd", plan.tasksRead() ? plan.tasks().toString() : null);
            m.put("counters", rows);
            m.put("message", summary);
            o.object(m);
            return;
        }
        PrintStream out = o.out();
        out.println("counters.json:      " + describe(plan));
        out.println("counters.json.prev: " + describe(plan.backup()));
        out.println("audit log:          " + plan.auditLines() + " lines"
                + (plan.auditUnreadable() > 0 ? ", " + plan.auditUnreadable() + " unreadable (skipped)" : ""));
        out.println("TASKS.md:           " + (plan.tasksRead() ? plan.tasks() : "none"));
        if (!plan.rows().isEmpty()) {
            out.println();
            out.printf("%-16s %12s %12s %12s %12s%n", "prefix", "audit log", "TASKS.md", "backup", "-> counter");
            for (Recovery.Row r : plan.rows()) {
                out.printf(
                        "%-16s %12s %12s %12s %12d%n",
                        r.prefix(), show(r.audit()), show(r.tasks()), show(r.backup()), r.result());
            }
            out.println();
        }
        (written || !plan.needed() ? out : o.err()).println(summary);
    }

    private static String describe(StateFile.Inspection i) {
        return !i.exists() ? "missing" : i.readable() ? "readable" : "UNREADABLE (" + i.problem() + ")";
    }

    private static String describe(Recovery.Plan plan) {
        return plan.rewound().isEmpty()
                ? describe(plan.current())
                : "REWOUND (below what was issued: "
                        + plan.rewound().stream()
                                .map(r -> r.prefix() + " " + r.counter() + " < " + r.highest())
                                .collect(java.util.stream.Collectors.joining(", "))
                        + ")";
    }

    private static Object orNull(long v) {
        return v == Recovery.NONE ? null : v;
    }

    private static String show(long v) {
        return v == Recovery.NONE ? "-" : Long.toString(v);
    }
}
