package dev.taskid.cli.admin;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;

/** {@code taskid doctor [--json]}: the health check (see {@link Doctor}). */
public final class DoctorCommand implements Command {
    private static final String SYNOPSIS = "doctor [--json]";

    private static final Spec SPEC = new Spec(
            "doctor",
            SYNOPSIS,
            "Check this state directory: daemon (pid, version, socket), counters.json and its backup, leftovers, the\n"
                    + "lock holder, config.json, the audit log, file modes, and drift: IDs in TASKS.md above their counter\n"
                    + "(made without reserving: the next reservations would hand them out again). With a shared backend: whether\n"
                    + "it is reachable, its schema version, synchronous_commit and fsync, and the round-trip time.\n"
                    + "Exit 1 if anything fails.");

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        if (!c.rest().isEmpty()) {
            throw new UsageException("doctor takes no arguments", SYNOPSIS);
        }
        Doctor doctor = new Doctor(c.ids());
        doctor.examine();
        return doctor.report(c.output());
    }
}
