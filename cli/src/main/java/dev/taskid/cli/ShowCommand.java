package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.Reply;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;

/** {@code taskid show [PREFIX]}: the counters. */
final class ShowCommand implements Command {
    private static final Spec SPEC =
            new Spec("show", "show [PREFIX] [--json]", "Print the counters (value = last number issued).");

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        if (c.rest().size() > 1) {
            throw new UsageException("show takes at most one PREFIX");
        }
        Reply reply = c.ids()
                .call(new Request.Peek(
                        null, c.rest().isEmpty() ? null : c.rest().get(0)));
        c.output().notice(reply);
        if (reply.response() instanceof Response.Failure f) {
            return c.output().fail(f);
        }
        Response.Counters r = (Response.Counters) reply.response();
        if (c.json()) {
            c.output().response(r);
        } else {
            r.counters().forEach((p, v) -> c.out().printf("%-8s %d%n", p, v));
        }
        return Context.OK;
    }
}
