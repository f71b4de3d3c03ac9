package dev.taskid.cli;

import dev.taskid.cli.command.Context;
import dev.taskid.cli.config.UserConfig;
import dev.taskid.client.TaskIds;
import dev.taskid.options.ParsedArgs;
import dev.taskid.state.StateDir;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The state one command works on, opened on its first use (from {@code --dir} or TASKID_DIR,
 * {@code --no-fallback}, {@code --lock-timeout} and the per-user preferences) and closed when the command is done, so that
 * commands that need no state (help, completion) never locate or create it.
 */
final class StateSession implements Supplier<TaskIds>, AutoCloseable {
    private final Path cwd;
    private final Map<String, String> env;
    private final ParsedArgs args;
    private final UserConfig user;
    private final PrintStream err;
    private StateDir dir;
    private boolean existed;
    private TaskIds ids;

    StateSession(Path cwd, Map<String, String> env, ParsedArgs args, UserConfig user, PrintStream err) {
        this.cwd = cwd;
        this.env = env;
        this.args = args;
        this.user = user;
        this.err = err;
    }

    @Override
    public TaskIds get() {
        if (ids == null) {
            dir = StateDir.locate(cwd, args.value("--dir") != null ? args.value("--dir") : env.get("TASKID_DIR"));
            existed = dir.exists();
            // The command line over this user's preferences over the repository's config.json.
            boolean fallback = !args.flag("--no-fallback") && user.fallback().orElse(true);
            TaskIds.Options options = TaskIds.Options.DEFAULT.withFallback(fallback);
            String timeout = args.value("--lock-timeout");
            Optional<Duration> lockTimeout = timeout != null
                    ? Optional.of(Duration.ofMillis(Context.integer(timeout, "--lock-timeout")))
                    : user.lockTimeout();
            if (lockTimeout.isPresent()) {
                options = options.withLockTimeout(lockTimeout.get());
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
