package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Output;
import dev.taskid.cli.config.UserConfig;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.options.Option;
import dev.taskid.options.OptionException;
import dev.taskid.options.OptionParser;
import dev.taskid.options.ParsedArgs;
import dev.taskid.options.Suggest;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.protocol.Version;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code taskid} command line: finds the command (see {@link Commands}), parses the words
 * against its options and the global ones, runs it, and reports what it throws. Results go to
 * stdout, every diagnostic to stderr, and the exit status says what happened (README "Exit status").
 */
final class Cli {
    static final int USAGE = 2;

    private final PrintStream out;
    private final PrintStream err;
    private final InputStream in;
    private final Path cwd;
    private final Map<String, String> env;

    Cli(PrintStream out, PrintStream err, InputStream in, Path cwd, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.in = in;
        this.cwd = cwd;
        this.env = env;
    }

    int run(String[] argv) {
        List<String> words = Arrays.asList(argv);
        Optional<Command> command = findCommand(words);
        // Before parsing, so that a line that does not parse is reported as JSON too.
        int end = words.indexOf("--");
        Output output = new Output(out, err, (end < 0 ? words : words.subList(0, end)).contains("--json"));
        try {
            List<Option> options = new ArrayList<>(Commands.GLOBAL);
            if (command.isPresent()) {
                options.addAll(command.get().spec().options());
            }
            ParsedArgs args = parse(words, options);
            if (args.flag(Commands.VERSION.name())) {
                out.println("taskid " + Version.CURRENT);
                return Context.OK;
            }
            boolean help = args.flag(Commands.HELP.name());
            if (command.isEmpty()) {
                if (help) {
                    out.print(Commands.usage(Version.CURRENT));
                    return Context.OK;
                }
                throw new UsageException(
                        args.positionals().isEmpty()
                                ? "no command given"
                                : "unknown command \"" + args.positionals().get(0) + "\""
                                        + Suggest.hint(args.positionals().get(0), Commands.names()));
            }
            if (help) {
                out.print(Commands.help(command.get()));
                return Context.OK;
            }
            UserConfig user = UserConfig.load(env, output.codec());
            if (user.json().orElse(false) && !output.json()) {
                output = new Output(out, err, true);
            }
            try (StateSession session = new StateSession(cwd, env, args, user, err)) {
                Context context = new Context(
                        args.positionals().subList(1, args.positionals().size()),
                        args,
                        output,
                        in,
                        cwd,
                        env,
                        user,
                        session);
                context.lockTimeout(); // a malformed --lock-timeout is a usage error before the command starts
                int status = command.get().run(context);
                session.noticeIfGuessed();
                return status;
            }
        } catch (UsageException e) {
            String synopsis = e.synopsis() != null
                    ? e.synopsis()
                    : command.map(c -> c.spec().synopsis()).orElse("COMMAND ...");
            if (output.json()) {
                return output.fail(ErrorCode.BAD_REQUEST, e.getMessage(), false, Map.of("usage", "taskid " + synopsis));
            }
            err.println("taskid: " + e.getMessage());
            err.println("usage: taskid " + synopsis + "   (taskid --help)");
            return USAGE;
        } catch (TaskIdException e) {
            return output.fail(e.code(), e.getMessage(), e.code().retryByDefault(), e.details());
        }
    }

    private static ParsedArgs parse(List<String> words, List<Option> options) {
        try {
            return OptionParser.parse(words, options);
        } catch (OptionException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** The first word that is neither an option nor a global option's value. */
    private static Optional<Command> findCommand(List<String> words) {
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (takesValue(w)) {
                i++;
            } else if (!w.startsWith("-")) {
                return Commands.byName(w);
            }
        }
        return Optional.empty();
    }

    // Loops rather than streams and lambdas here and in Commands.byName: every call runs them
    // before it reaches the daemon, and on JDK 17 each first lambda costs its call-site linkage
    // (docs/BENCHMARKS.md, "CLI start-up, session 5").
    private static boolean takesValue(String word) {
        for (Option o : Commands.GLOBAL) {
            if (o.takesValue() && o.name().equals(word)) {
                return true;
            }
        }
        return false;
    }
}
