package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import java.util.Map;

/** {@code taskid socket-path}: where the daemon listens, whether or not it runs. */
final class SocketPathCommand implements Command {
    private static final Spec SPEC = new Spec(
            "socket-path",
            "socket-path [--json]",
            "Print the daemon's socket for this state directory, whether or not a daemon runs (for other clients,\n"
                    + "like gpgconf --list-dirs agent-socket).");

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        if (!c.rest().isEmpty()) {
            throw new UsageException("socket-path takes no arguments");
        }
        if (c.json()) {
            c.output().object(Map.of("socket", c.ids().socket().toString()));
        } else {
            c.out().println(c.ids().socket());
        }
        return Context.OK;
    }
}
