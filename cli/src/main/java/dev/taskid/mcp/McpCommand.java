package dev.taskid.mcp;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;

/** {@code taskid mcp}: the MCP server on stdin/stdout (see {@link McpServer}). */
public final class McpCommand implements Command {
    private static final Spec SPEC = new Spec(
            "mcp",
            "mcp",
            "Serve the Model Context Protocol on stdin/stdout for AI agents (tools reserve_task_ids, validate_task_ids,\n"
                    + "show_counters, process_inbox). Register it with your agent, e.g. `claude mcp add taskid -- taskid mcp`; see docs/CLIENTS.md.");

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        return McpServer.serve(c.ids(), c.rest(), c.env(), c.in(), c.out(), c.err());
    }
}
