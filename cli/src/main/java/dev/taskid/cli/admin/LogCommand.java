package dev.taskid.cli.admin;

import dev.taskid.backend.AuditTrail;
import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Output;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.options.Option;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskId;
import dev.taskid.state.AuditEntry;
import dev.taskid.state.Config;
import dev.taskid.state.StateDir;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * {@code taskid log [PREFIX|ID|PREFIX NUMBER] [--since T] [--json]}: the audit log, filtered;
 * answers "who reserved SEC-20, when and why". Reads the files without the lock: lines are
 * appended whole and a torn one is skipped.
 */
public final class LogCommand implements Command {
    private static final String SYNOPSIS = "log [PREFIX|ID|PREFIX NUMBER] [--since T] [--json]";
    private static final String HELP =
            "Show the audit log (.taskid/audit.log and its rotated files, oldest first): every reservation, set, init,\n"
                    + "archive and recover with time, IDs, purpose, agent, key, requester pid/uid and mode. With an ID: who\n"
                    + "reserved it, when and why (exit 1 if the log has no such entry). --since takes 2026-02-19T18:00:00Z,\n"
                    + "2026-02-19 or an age (30m, 2h, 7d). --json: the matching lines as JSON Lines. With a shared backend:\n"
                    + "its audit rows, every host's.";

    private static final Spec SPEC = new Spec(
            "log",
            SYNOPSIS,
            HELP,
            List.of(Option.valued(
                    "--since", "T", "only entries since T: 2026-02-19T18:00:00Z, 2026-02-19 or an age (30m, 2h, 7d)")));

    @Override
    public Spec spec() {
        return SPEC;
    }

    /** What to look for: a prefix, optionally one number of it. */
    private record Query(String prefix, long number) {
        boolean forNumber() {
            return number >= 0;
        }
    }

    @Override
    public int run(Context c) {
        List<String> rest = c.rest();
        String sinceText = c.option("--since");
        boolean json = c.json();
        StateDir dir = c.ids().stateDir();
        PrintStream out = c.out();
        PrintStream err = c.err();
        Output o = c.output();
        Query query;
        Instant since;
        try {
            query = query(rest);
            since = sinceText == null ? Instant.MIN : Figures.since(sinceText, Instant.now());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), SYNOPSIS);
        }
        List<AuditEntry> reserved = new ArrayList<>();
        List<AuditEntry> passed = new ArrayList<>();
        Instant[] first = {null};
        Predicate<String> cheap = query == null ? l -> true : l -> l.contains("\"prefix\":\"" + query.prefix() + "\"");
        int unreadable = AuditTrail.read(
                dir,
                c.env(),
                o.codec(),
                cheap,
                e -> { // the shared rows with a backend
                    if (first[0] == null) {
                        first[0] = e.time();
                    }
                    if (e.time().isBefore(since)) {
                        return;
                    }
                    if (query == null || !query.forNumber()) {
                        if (query == null || query.prefix().equals(e.prefix())) {
                            reserved.add(e);
                        }
                    } else if (query.prefix().equals(e.prefix())) {
                        if (handsOut(e, query.number())) {
                            reserved.add(e);
                        } else if (e.from() >= 0
                                && e.from() < query.number()
                                && query.number() <= e.to()
                                && !e.op().equals("reserve")) {
                            passed.add(e);
                        }
                    }
                });
        if (unreadable > 0) {
            err.println("taskid: skipped " + unreadable + " unreadable line(s) of the audit log");
        }
        List<AuditEntry> shown = new ArrayList<>(reserved);
        if (query != null && query.forNumber() && reserved.isEmpty()) {
            shown.addAll(passed);
        }
        for (AuditEntry e : shown) {
            out.println(json ? new String(e.toJson(o.codec()), StandardCharsets.UTF_8) : text(e));
        }
        if (query != null && reserved.isEmpty() && passed.isEmpty()) {
            // Like `show FOO`: a prefix that is not configured (and has no history) is a mistake, not an empty log.
            Config config = Config.load(dir.config(), o.codec());
            if (!config.isValidPrefix(query.prefix())) {
                return o.fail(
                        ErrorCode.INVALID_PREFIX,
                        "Invalid prefix \"" + query.prefix() + "\". Valid: " + String.join(", ", config.prefixes()),
                        Map.of("valid", List.copyOf(config.prefixes())));
            }
        }
        if (query != null && query.forNumber()) {
            String what = query.prefix() + " " + query.number();
            if (reserved.isEmpty() && passed.isEmpty()) {
                err.println("taskid: the audit log has no entry for " + what
                        + (first[0] == null
                                ? " (the log is empty)"
                                : " (it starts at " + first[0]
                                        + "; older entries were rotated away, or the ID was made without taskid)"));
                return Context.NO;
            }
            if (reserved.isEmpty() && !json) {
                err.println(
                        "taskid: no reservation handed out " + what + "; the counter was moved past it by the above");
            }
        }
        return Context.OK;
    }

    private static Query query(List<String> rest) {
        if (rest.isEmpty()) {
            return null;
        }
        if (rest.size() == 2) {
            if (!TaskId.isPrefix(rest.get(0))) {
                throw new IllegalArgumentException("not a prefix: " + rest.get(0));
            }
            return new Query(rest.get(0), number(rest.get(1)));
        }
        if (rest.size() > 2) {
            throw new IllegalArgumentException("log takes one PREFIX or ID (or PREFIX NUMBER)");
        }
        String w = rest.get(0);
        if (TaskId.isPrefix(w)) {
            return new Query(w, -1);
        }
        var id = TaskId.parse(w);
        if (id.isEmpty()) {
            throw new IllegalArgumentException("not a prefix or task ID: " + w);
        }
        return new Query(id.get().prefix(), id.get().number());
    }

    private static long number(String s) {
        try {
            long n = Long.parseLong(s);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("not a number: " + s);
    }

    /** Whether {@code e} handed out (or archived/restored) {@code number} of its prefix. */
    private static boolean handsOut(AuditEntry e, long number) {
        if (e.numbers().contains(number)) {
            return true;
        }
        for (String id : e.ids()) {
            int dash = id.lastIndexOf('-');
            try {
                if (Long.parseLong(id.substring(dash + 1)) == number) {
                    return true;
                }
            } catch (NumberFormatException ignored) {
                // not an ID this query can match
            }
        }
        return false;
    }

    /** One entry as a line for people. */
    static String text(AuditEntry e) {
        StringBuilder b = new StringBuilder();
        b.append(dev.taskid.json.Timestamps.format(e.time())).append("  ").append(String.format("%-8s", e.op()));
        if (!e.ids().isEmpty()) {
            List<String> ids = e.ids();
            b.append(' ')
                    .append(
                            ids.size() <= 6
                                    ? String.join(" ", ids)
                                    : ids.get(0) + " .. " + ids.get(ids.size() - 1) + " (" + ids.size() + " IDs)");
        } else if (!e.numbers().isEmpty()) {
            b.append(' ').append(e.prefix()).append(' ').append(e.numbers());
        } else if (e.prefix() != null) {
            b.append(' ').append(e.prefix());
            if (e.to() >= 0) {
                b.append(' ').append(e.from() >= 0 ? e.from() + " -> " : "").append(e.to());
            }
        }
        if (e.agent() != null) {
            b.append("  agent ").append(e.agent());
        }
        if (e.purpose() != null) {
            b.append("  \"").append(e.purpose()).append('"');
        }
        if (e.key() != null) {
            b.append("  key ").append(e.key());
        }
        b.append("  (pid ")
                .append(e.by().pid() < 0 ? "?" : e.by().pid())
                .append(", uid ")
                .append(e.by().uid() < 0 ? "?" : e.by().uid())
                .append(", ")
                .append(e.by().mode());
        if (e.by().lockWaitMs() >= 0) {
            b.append(", lock wait ").append(e.by().lockWaitMs()).append(" ms");
        }
        return b.append(')').toString();
    }
}
