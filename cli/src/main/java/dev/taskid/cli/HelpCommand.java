package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.protocol.Version;
import java.util.Optional;

/** {@code taskid help [COMMAND]}: the same text as {@code --help}. */
final class HelpCommand implements Command {
    private static final Spec SPEC = new Spec("help", "help [COMMAND]", "Show help.");

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        Optional<Command> about =
                c.rest().isEmpty() ? Optional.empty() : Commands.byName(c.rest().get(0));
        c.out().print(about.map(Commands::help).orElseGet(() -> Commands.usage(Version.CURRENT)));
        return Context.OK;
    }
}
