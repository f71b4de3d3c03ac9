package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.protocol.Response;

/** {@code taskid validate ID...}: was each ID issued? */
final class ValidateCommand implements Command {
    private static final Spec SPEC = new Spec(
            "validate",
            "validate ID... [--json]",
            "Say whether each ID was issued (known prefix, number at or below its counter). Exit 1 if any was not.");

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        if (c.rest().isEmpty()) {
            throw new UsageException("validate takes one or more IDs");
        }
        Reply reply = TaskIds.validateAll(c.rest(), c.ids()::call);
        c.output().notice(reply); // e.g. answered from a rewound counters.json, raised to what was issued
        if (reply.response() instanceof Response.Failure f) {
            return c.output().fail(f);
        }
        Response.Validation r = (Response.Validation) reply.response();
        if (c.json()) {
            c.output().response(r);
        } else {
            for (Response.Validation.Check check : r.results()) {
                c.out().println(check.id() + (check.issued() ? " issued" : " NOT issued: " + check.reason()));
            }
        }
        return r.allIssued() ? Context.OK : Context.NO;
    }
}
