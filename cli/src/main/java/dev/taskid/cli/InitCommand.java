package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.client.TaskIds;
import dev.taskid.protocol.Request;
import dev.taskid.state.Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code taskid init [FILE...]}: counters raised to the highest IDs in markdown files. */
final class InitCommand implements Command {
    private static final Spec SPEC = new Spec(
            "init",
            "init [FILE...]",
            "Raise counters to the highest IDs found in markdown FILEs (default: TASKS.md at the project root). Never lowers.");

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        TaskIds ids = c.ids();
        List<Path> paths = new ArrayList<>();
        if (c.rest().isEmpty()) {
            paths.add(ids.stateDir().projectRoot().resolve("TASKS.md"));
        } else {
            c.rest().forEach(f -> paths.add(c.cwd().resolve(f)));
        }
        // Scanned here, floors sent: the daemon reads no file a client names, and floors fit a line.
        InitFloors.Scan scan = InitFloors.scan(
                paths, Config.load(ids.stateDir().config(), c.output().codec()).prefixes());
        return Raised.report(
                c.output(),
                ids.call(new Request.Init(null, null, scan.floors())),
                scan.found(),
                paths.size() == 1 ? paths.get(0).getFileName().toString() : paths.size() + " files");
    }
}
