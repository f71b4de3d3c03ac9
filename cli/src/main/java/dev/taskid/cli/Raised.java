package dev.taskid.cli;

import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Output;
import dev.taskid.client.Reply;
import dev.taskid.protocol.Response;
import java.util.Map;

/** How {@code init} and {@code import} report counters they raised: the answer as JSON, or a table. */
final class Raised {
    private Raised() {}

    /** Reports {@code reply} to an init request; {@code found} IDs were seen by the client's own scan. */
    static int report(Output o, Reply reply, int found, String source) {
        o.notice(reply);
        if (reply.response() instanceof Response.Failure f) {
            return o.fail(f);
        }
        Response.Initialized answer = (Response.Initialized) reply.response();
        Response.Initialized r =
                new Response.Initialized(answer.id(), answer.found() + found, answer.before(), answer.after());
        if (o.json()) {
            o.response(r);
            return Context.OK;
        }
        o.out().println("✅ Initialized counters from " + r.found() + " tasks in " + source + ":");
        if (r.after().isEmpty()) {
            o.out().println("   (no IDs of known prefixes found)");
        }
        for (Map.Entry<String, Long> e : r.after().entrySet()) {
            long before = r.before().getOrDefault(e.getKey(), 0L);
            o.out()
                    .printf(
                            "   %-8s → %d%s%n",
                            e.getKey(),
                            e.getValue(),
                            before == e.getValue() ? "   (unchanged)" : "   (was " + before + ")");
        }
        return Context.OK;
    }
}
