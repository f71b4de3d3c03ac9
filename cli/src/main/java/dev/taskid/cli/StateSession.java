package dev.taskid.cli;

import dev.taskid.cli.command.Context;
import dev.taskid.client.TaskIds;
import dev.taskid.options.ParsedArgs;
import dev.taskid.state.StateDir;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The state one command works on, opened on its first use (from {@code --dir} or TASKID_DIR,
 * {@code --no-fallback}, {@code --lock-timeout}) and closed when the command is done, so that
 * commands that need no state (help, completion) never locate or create it.
 */
final class StateSession implements Supplier<TaskIds>, AutoCloseable {
    private final Path cwd;
    private final Map<String, String> env;
    private final ParsedArgs args;
    private final PrintStream err;
    private StateDir dir;
    private boolean existed;
    private TaskIds ids;

    StateSession(Path cwd, Map<String, String> env, ParsedArgs args, PrintStream err) {
        this.cwd = cwd;
        this.env = env;
        this.args = args;
        this.err = err;
    }

    @Override
    public TaskIds get() {
        if (ids == null) {
            dir = StateDir.locate(cwd, args.value("--dir") != null ? args.value("--dir") : env.get("TASKID_DIR"));
            existed = dir.exists();
            TaskIds.Options options = TaskIds.Options.DEFAULT.withFallback(!args.flag("--no-fallback"));
            String timeout = args.value("--lock-timeout");
            if (timeout != null) {
                options = options.withLockTimeout(Duration.ofMillis(Context.integer(timeout, "--lock-timeout")));
            }
            ids = TaskIds.open(dir, options);
        }
        return ids;
    }

    /** After a command that succeeded: say where the state went when no repository told us. */
    void noticeIfGuessed() {
        if (ids != null && !existed && dir.guessed() && dir.exists()) {
            err.println("taskid: no git repository found above " + cwd + "; keeping state in " + dir
                    + " (choose another place with --dir or TASKID_DIR)");
        }
    }

    @Override
    public void close() {
        if (ids != null) {
            ids.close();
        }
    }
}
