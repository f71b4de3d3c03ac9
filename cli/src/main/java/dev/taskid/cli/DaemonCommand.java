package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.TaskIds;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Response;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code taskid daemon status|stop}. The daemon itself ({@code taskid daemon} alone) is the
 * daemon module's DaemonMain, which the launcher runs.
 */
final class DaemonCommand implements Command {
    /** {@code daemon status} with no daemon (README "Exit status"). */
    static final int NOT_RUNNING = 3;

    private static final Spec SPEC = new Spec(
            "daemon",
            "daemon status|stop [--json]",
            "status: is a daemon serving this state directory (exit 3 if not). stop: SIGTERM it and wait for it to exit.\n"
                    + "`taskid daemon` with no sub-command runs the daemon in the foreground (via the launcher).");

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        if (c.rest().size() != 1 || !List.of("status", "stop").contains(c.rest().get(0))) {
            throw new UsageException("daemon takes status or stop (run the daemon itself with the taskid launcher)");
        }
        boolean status = c.rest().get(0).equals("status");
        TaskIds ids = c.ids();
        Optional<Response.Hello> hello = ids.daemon();
        if (hello.isEmpty()) {
            if (c.json()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("running", false);
                m.put("stateDir", ids.stateDir().dir().toString());
                m.put("socket", ids.socket().toString());
                c.output().object(m);
            }
            c.err().println("taskid: no daemon is serving " + ids.stateDir() + " (socket " + ids.socket() + ")");
            return status ? NOT_RUNNING : Context.OK;
        }
        Response.Hello h = hello.get();
        return status ? status(c, ids, h) : stop(c, ids, h);
    }

    private static int status(Context c, TaskIds ids, Response.Hello h) {
        if (c.json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("running", true);
            m.put("pid", h.pid());
            m.put("version", h.version());
            m.put("protocol", h.protocol());
            m.put("stateDir", h.stateDir());
            m.put("socket", ids.socket().toString());
            m.put("epoch", h.epoch());
            c.output().object(m);
        } else {
            c.out()
                    .println("taskid daemon " + h.version() + " running: pid " + h.pid() + ", state " + h.stateDir()
                            + ", socket " + ids.socket() + ", epoch " + h.epoch());
        }
        return Context.OK;
    }

    private static int stop(Context c, TaskIds ids, Response.Hello h) {
        ProcessHandle process = ids.daemonProcess(h);
        process.destroy();
        try {
            process.onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            return c.output()
                    .fail(
                            ErrorCode.SYSTEM_ERROR,
                            "daemon pid " + h.pid() + " did not exit within 30 s after SIGTERM",
                            true,
                            Map.of("pid", h.pid()));
        }
        if (c.json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("running", false);
            m.put("stopped", true);
            m.put("pid", h.pid());
            c.output().object(m);
        } else {
            c.out().println("stopped taskid daemon pid " + h.pid());
        }
        return Context.OK;
    }
}
