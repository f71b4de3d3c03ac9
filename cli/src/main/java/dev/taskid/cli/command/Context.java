package dev.taskid.cli.command;

import dev.taskid.cli.config.UserConfig;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.TaskIds;
import dev.taskid.options.ParsedArgs;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What a command runs with: the words after its name, the options given (global and its own),
 * where to print, stdin, the working directory, the environment, this user's preferences
 * ({@link UserConfig}), and the state it works on,
 * opened only when asked for ({@link #ids()}): help, completion and the like never touch it.
 */
public record Context(
        List<String> rest,
        ParsedArgs options,
        Output output,
        InputStream in,
        Path cwd,
        Map<String, String> env,
        UserConfig user,
        Supplier<TaskIds> taskIds) {
    public static final int OK = 0;
    /** "No" without an error: README "Exit status" 1. */
    public static final int NO = 1;

    public Context {
        rest = List.copyOf(rest);
        env = Map.copyOf(env);
    }

    /** The state (daemon or file lock), opened on first use and closed by the CLI after the command. */
    public TaskIds ids() {
        return taskIds.get();
    }

    public PrintStream out() {
        return output.out();
    }

    public PrintStream err() {
        return output.err();
    }

    public boolean json() {
        return output.json();
    }

    public boolean flag(String name) {
        return options.flag(name);
    }

    /** The option's value, or null when it was not given. */
    public String option(String name) {
        return options.value(name);
    }

    /** The global {@code --lock-timeout MS}, when given. */
    public Optional<Duration> lockTimeout() {
        String ms = option("--lock-timeout");
        return ms == null ? Optional.empty() : Optional.of(Duration.ofMillis(integer(ms, "--lock-timeout")));
    }

    /** {@code text} as a whole number, or a usage error naming {@code what}. */
    public static long integer(String text, String what) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new UsageException(what + " must be an integer, got \"" + text + "\"");
        }
    }
}
