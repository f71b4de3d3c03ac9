package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.TaskIds;
import dev.taskid.options.Option;
import dev.taskid.state.StateDir;
import java.nio.file.Path;
import java.util.List;

/** {@code taskid systemd install|uninstall}: the socket-activated units for this state directory. */
final class SystemdCommand implements Command {
    private static final Spec SPEC = new Spec(
            "systemd",
            "systemd install|uninstall [--system] [--unit-dir DIR]",
            "install: write systemd units for this state directory that start the daemon on the first connection\n"
                    + "(user units taskid@.socket/.service by default; --system: taskid.service) and print the systemctl\n"
                    + "commands. uninstall: remove this directory's drop-ins (or the system unit).",
            List.of(
                    Option.flag("--system", "the system-wide daemon (state in /var/lib/taskid unless --dir)"),
                    Option.valued(
                            "--unit-dir", "DIR", "where the unit files go (default: systemd's own directories)")));

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        if (c.rest().size() != 1
                || !List.of("install", "uninstall").contains(c.rest().get(0))) {
            throw new UsageException("systemd takes install or uninstall");
        }
        TaskIds ids = c.ids();
        SystemdUnits units = new SystemdUnits(c.out(), c.env());
        Path unitDir = c.option("--unit-dir") == null ? null : c.cwd().resolve(c.option("--unit-dir"));
        boolean system = c.flag("--system");
        // --system: the system-wide daemon's directory, not this repository's, unless one was named.
        String envDir = c.env().get("TASKID_DIR");
        boolean named = c.option("--dir") != null || (envDir != null && !envDir.isEmpty());
        StateDir dir = system && !named ? StateDir.of(SystemdUnits.SYSTEM_STATE) : ids.stateDir();
        return c.rest().get(0).equals("install")
                ? units.install(dir, ids.socket(), system, unitDir)
                : units.uninstall(dir, system, unitDir);
    }
}
