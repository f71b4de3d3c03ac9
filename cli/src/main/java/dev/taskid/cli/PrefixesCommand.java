package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.client.Reply;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import java.util.Map;

/** {@code taskid prefixes}: the valid prefixes (the counters' keys). */
final class PrefixesCommand implements Command {
    private static final Spec SPEC = new Spec("prefixes", "prefixes [--json]", "Print the valid prefixes.");

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        Reply reply = c.ids().call(new Request.Peek(null, null));
        if (reply.response() instanceof Response.Failure f) {
            return c.output().fail(f);
        }
        var prefixes = ((Response.Counters) reply.response()).counters().keySet();
        if (c.json()) {
            c.output().object(Map.of("prefixes", prefixes));
        } else {
            prefixes.forEach(c.out()::println);
        }
        return Context.OK;
    }
}
