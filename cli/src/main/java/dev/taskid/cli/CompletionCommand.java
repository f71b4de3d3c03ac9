package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.options.Option;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** {@code taskid completion bash|zsh|fish}: completion scripts rendered from the command model. */
final class CompletionCommand implements Command {
    static final List<String> SHELLS = List.of("bash", "zsh", "fish");

    private static final Spec SPEC = new Spec(
            "completion",
            "completion bash|zsh|fish",
            "Print a shell completion script, e.g. `source <(taskid completion bash)` in ~/.bashrc,\n"
                    + "`taskid completion fish > ~/.config/fish/completions/taskid.fish`.");

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        // Needs no state directory: it only prints what the command model says.
        if (c.rest().size() != 1 || !SHELLS.contains(c.rest().get(0))) {
            throw new UsageException("completion takes one of " + String.join(", ", SHELLS));
        }
        c.out().print(script(c.rest().get(0)));
        return Context.OK;
    }

    static String script(String shell) {
        return switch (shell) {
            case "bash" -> bash();
            case "zsh" ->
                "#compdef taskid\n# taskid completion for zsh (the bash one, through bashcompinit)\n"
                        + "autoload -U +X bashcompinit && bashcompinit\n" + bash();
            case "fish" -> fish();
            default -> throw new IllegalArgumentException(shell);
        };
    }

    private static Set<String> names(List<Option> options) {
        return options.stream().map(Option::name).collect(Collectors.toCollection(TreeSet::new));
    }

    private static String bash() {
        Set<String> global = names(Commands.GLOBAL);
        Set<String> globalValued =
                names(Commands.GLOBAL.stream().filter(Option::takesValue).toList());
        StringBuilder b = new StringBuilder("# taskid completion for bash: source <(taskid completion bash)\n");
        b.append("_taskid() {\n")
                .append("  local cur=${COMP_WORDS[COMP_CWORD]} cmd= i w\n")
                .append("  for ((i = 1; i < COMP_CWORD; i++)); do\n")
                .append("    w=${COMP_WORDS[i]}\n")
                .append("    case $w in\n")
                .append("      ")
                .append(String.join("|", globalValued))
                .append(") ((i++)) ;;\n")
                .append("      -*) ;;\n")
                .append("      *) cmd=$w; break ;;\n")
                .append("    esac\n")
                .append("  done\n")
                .append("  case $cmd in\n");
        for (Spec c : Commands.specs()) {
            b.append("    ")
                    .append(c.name())
                    .append(") COMPREPLY=($(compgen -W \"")
                    .append(String.join(" ", words(c)))
                    .append("\" -- \"$cur\")) ;;\n");
        }
        b.append("    *) COMPREPLY=($(compgen -W \"")
                .append(String.join(" ", new TreeSet<>(Commands.names())))
                .append(' ')
                .append(String.join(" ", global))
                .append("\" -- \"$cur\")) ;;\n")
                .append("  esac\n")
                .append("}\n")
                .append("complete -o default -F _taskid taskid\n");
        return b.toString();
    }

    private static String fish() {
        StringBuilder b = new StringBuilder(
                "# taskid completion for fish: taskid completion fish > ~/.config/fish/completions/taskid.fish\n");
        b.append("complete -c taskid -f\n");
        for (Option o : Commands.GLOBAL.stream()
                .sorted(Comparator.comparing(Option::name))
                .toList()) {
            b.append("complete -c taskid -l ")
                    .append(o.name().substring(2))
                    .append(o.takesValue() ? " -r" : "")
                    .append('\n');
        }
        for (Spec c : Commands.specs()) {
            b.append("complete -c taskid -n __fish_use_subcommand -a ")
                    .append(c.name())
                    .append(" -d '")
                    .append(firstSentence(c.help()))
                    .append("'\n");
            for (Option o : sorted(c.options())) {
                b.append("complete -c taskid -n '__fish_seen_subcommand_from ")
                        .append(c.name())
                        .append("' -l ")
                        .append(o.name().substring(2))
                        .append(o.takesValue() ? " -r" : "")
                        .append('\n');
            }
        }
        return b.toString();
    }

    /** Flags first, then valued options, each by name: the order the scripts have always listed them in. */
    private static List<Option> sorted(List<Option> options) {
        return options.stream()
                .sorted(Comparator.comparing(Option::takesValue).thenComparing(Option::name))
                .toList();
    }

    /** What may follow a command: its sub-command words (from the synopsis) and options. */
    private static Set<String> words(Spec c) {
        Set<String> words = names(c.options());
        words.add("--help");
        for (String token : c.synopsis().split("[ |\\[\\]]+")) {
            if (token.matches("[a-z][a-z0-9-]*") && !token.equals(c.name())) {
                words.add(token); // sub-commands and fixed values: install, claude, status, bash...
            }
        }
        if (c.name().equals("help")) {
            words.addAll(Commands.names());
        }
        return words;
    }

    private static String firstSentence(String help) {
        String s = help.split("\n")[0];
        int dot = s.indexOf(". ");
        s = dot > 0 ? s.substring(0, dot) : s;
        return s.replace("'", "\\'");
    }
}
