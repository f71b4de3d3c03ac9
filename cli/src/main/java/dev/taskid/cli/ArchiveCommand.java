package dev.taskid.cli;

import dev.taskid.allocator.Wrap;
import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.Reply;
import dev.taskid.options.Option;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code taskid archive PREFIX NUMBER...}: the words to a request, the answer to text. A
 * number may be written {@code 42}, {@code 042}, {@code PROJECT-042} or as a range
 * {@code 900-949}; commas separate too.
 */
final class ArchiveCommand implements Command {
    /**
     * Compiled when archive runs, not when every call builds the command list (regex
     * compilation was ~5% of a `reserve` call's own time: docs/BENCHMARKS.md, "CLI start-up, session 5").
     */
    private static final class Patterns {
        static final Pattern NUMBER = Pattern.compile("[0-9]{1,15}");
        static final Pattern RANGE = Pattern.compile("([0-9]{1,15})-([0-9]{1,15})");
        static final Pattern ID = Pattern.compile("([A-Z][A-Z0-9]{0,15})-([0-9]{1,15})");
    }

    /** The protocol's longest list. */
    private static final int MAX_NUMBERS = 10_000;

    private static final Spec SPEC = new Spec(
            "archive",
            "archive PREFIX [NUMBER|FROM-TO|ID...] [--restore] [--json]",
            "Mark numbers of a wrapped prefix (config prefixOptions wrap) done, so the sequence may hand them out again\n"
                    + "when it comes round; a reservation that would hand out an active number fails with NUMBER_CONFLICT.\n"
                    + "No numbers: list the active ones. --restore: mark them active again (in use from before taskid).",
            List.of(Option.flag("--restore", "mark the numbers active again instead")));

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        Reply reply = c.ids().call(request(c.rest(), c.flag("--restore")));
        c.output().notice(reply);
        if (reply.response() instanceof Response.Failure f) {
            return c.output().fail(f);
        }
        if (c.json()) {
            c.output().response(reply.response());
        } else {
            c.out().print(text((Response.Archived) reply.response()));
        }
        return Context.OK;
    }

    static Request.Archive request(List<String> rest, boolean restore) {
        if (rest.isEmpty()) {
            throw new UsageException("archive takes PREFIX and the numbers to archive (none: list the active ones)");
        }
        String prefix = rest.get(0);
        Set<Long> numbers = new LinkedHashSet<>();
        for (String word : rest.subList(1, rest.size())) {
            for (String part : word.split(",")) {
                if (!part.isEmpty()) {
                    add(numbers, prefix, part.trim());
                }
            }
        }
        if (restore && numbers.isEmpty()) {
            throw new UsageException("archive --restore needs the numbers to mark active again");
        }
        return new Request.Archive(null, prefix, new ArrayList<>(numbers), restore);
    }

    private static void add(Set<Long> numbers, String prefix, String part) {
        Matcher m;
        if (Patterns.NUMBER.matcher(part).matches()) {
            numbers.add(Long.parseLong(part));
        } else if ((m = Patterns.RANGE.matcher(part)).matches()) {
            long from = Long.parseLong(m.group(1));
            long to = Long.parseLong(m.group(2));
            if (to < from || to - from >= MAX_NUMBERS) {
                throw new UsageException(
                        "range " + part + ": FROM-TO with FROM <= TO and at most " + MAX_NUMBERS + " numbers");
            }
            for (long n = from; n <= to; n++) {
                numbers.add(n);
            }
        } else if ((m = Patterns.ID.matcher(part)).matches()) {
            if (!m.group(1).equals(prefix)) {
                throw new UsageException(part + " is not a " + prefix + " number");
            }
            numbers.add(Long.parseLong(m.group(2)));
        } else {
            throw new UsageException("not a number, FROM-TO range or " + prefix + "-NUMBER: \"" + part + "\"");
        }
        if (numbers.size() > MAX_NUMBERS) {
            throw new UsageException("at most " + MAX_NUMBERS + " numbers at once");
        }
    }

    /** Human-readable result: what changed, then the active numbers. */
    static String text(Response.Archived r) {
        int width = r.wrap() > 0 ? Wrap.digits((int) r.wrap()) : 0;
        StringBuilder b = new StringBuilder();
        if (!r.changed().isEmpty()) {
            b.append(r.prefix())
                    .append(r.restore() ? ": active again: " : ": archived: ")
                    .append(join(r.changed(), width))
                    .append('\n');
        }
        if (!r.unchanged().isEmpty()) {
            b.append(r.prefix())
                    .append(r.restore() ? ": already active: " : ": not active (nothing to do): ")
                    .append(join(r.unchanged(), width))
                    .append('\n');
        }
        b.append(r.prefix())
                .append(": ")
                .append(r.active().size())
                .append(" active")
                .append(r.wrap() > 0 ? " (wraps at " + r.wrap() + ", next " + pad(r.next(), width) + ")" : "")
                .append(r.active().isEmpty() ? "" : ": " + join(r.active(), width))
                .append('\n');
        return b.toString();
    }

    private static String join(List<Long> numbers, int width) {
        StringBuilder b = new StringBuilder();
        for (Long n : numbers) {
            if (b.length() > 0) {
                b.append(' ');
            }
            b.append(pad(n, width));
        }
        return b.toString();
    }

    private static String pad(long n, int width) {
        String digits = Long.toString(n);
        return digits.length() >= width ? digits : "0".repeat(width - digits.length()) + digits;
    }
}
