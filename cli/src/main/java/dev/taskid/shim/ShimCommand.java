package dev.taskid.shim;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.options.Option;
import java.util.List;

/** {@code taskid shim install|uninstall}: the seed scripts' drop-in replacements (see {@link Shims}). */
public final class ShimCommand implements Command {
    private static final Spec SPEC = new Spec(
            "shim",
            "shim install claude|opencode [--prefix PREFIX] | shim uninstall [claude|opencode]",
            "install claude: write .claude/scripts/reserve-task-ids.js and init-task-counters.js, drop-in replacements\n"
                    + "for the seed scripts (same arguments and output) that ask taskid. install opencode: write the\n"
                    + "atomic-task-numberer subagent that calls `taskid reserve PREFIX N --format seed001` (--prefix, default DEV).\n"
                    + "Both import the seeds' counter files first (never lowering). uninstall: remove them, restoring backups.",
            List.of(Option.valued("--prefix", "PREFIX", "install opencode: the prefix its numbers get (default DEV)")));

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        return Shims.command(c.rest(), c.option("--prefix"), c.ids(), c.cwd(), c.out(), c.err());
    }
}
