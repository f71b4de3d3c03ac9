package dev.taskid.mcp;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;

/** {@code taskid mcp}: the MCP server on stdin/stdout (see {@link McpServer}). */
public final class McpCommand implements Command {
    @Override
    public String name() {
        return "mcp";
    }

    @Override
    public String synopsis() {
        return "mcp";
    }

    @Override
    public String help() {
        return "Serve the Model Context Protocol on stdin/stdout for AI agents (tools reserve_task_ids, validate_task_ids,\n"
                + "show_counters, process_inbox). Register it with your agent, e.g. `claude mcp add taskid -- taskid mcp`; see docs/CLIENTS.md.";
    }

    @Override
    public int run(Context c) {
        return McpServer.serve(c.ids(), c.rest(), c.in(), c.out(), c.err());
    }
}
