package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.Reply;
import dev.taskid.options.Option;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import java.util.List;

/** {@code taskid set PREFIX N [--force]}: one counter set; lowering needs --force. */
final class SetCommand implements Command {
    private static final Spec SPEC = new Spec(
            "set",
            "set PREFIX N [--force]",
            "Set a counter. Raising is safe; lowering needs --force because lowered IDs are handed out again.",
            List.of(Option.flag("--force", "allow lowering the counter")));

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        if (c.rest().size() != 2) {
            throw new UsageException("set takes PREFIX and N");
        }
        long value = Context.integer(c.rest().get(1), "N");
        Reply reply = c.ids().call(new Request.SetCounter(null, c.rest().get(0), value, c.flag("--force")));
        c.output().notice(reply);
        if (reply.response() instanceof Response.Failure f) {
            return c.output().fail(f);
        }
        Response.CounterSet r = (Response.CounterSet) reply.response();
        if (r.counter() < r.previous()) {
            c.err()
                    .println("taskid: warning: " + r.prefix() + " lowered from " + r.previous() + " to " + r.counter()
                            + ": IDs " + r.prefix() + "-" + (r.counter() + 1) + " to " + r.prefix() + "-" + r.previous()
                            + " will be handed out again");
        }
        if (c.json()) {
            c.output().response(r);
        } else {
            c.out().println(r.prefix() + ": " + r.previous() + " -> " + r.counter());
        }
        return Context.OK;
    }
}
