package dev.taskid.cli;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** {@code taskid completion bash|zsh|fish}: completion scripts rendered from the command table. */
final class Completion {
    static final List<String> SHELLS = List.of("bash", "zsh", "fish");

    private Completion() {
    }

    static String script(String shell, Set<String> globalFlags, Set<String> globalValued) {
        Set<String> global = new TreeSet<>(globalFlags);
        global.addAll(globalValued);
        global.remove("-h");
        return switch (shell) {
            case "bash" -> bash(global, globalValued);
            case "zsh" -> "#compdef taskid\n# taskid completion for zsh (the bash one, through bashcompinit)\n"
                    + "autoload -U +X bashcompinit && bashcompinit\n" + bash(global, globalValued);
            case "fish" -> fish(global, globalValued);
            default -> throw new IllegalArgumentException(shell);
        };
    }

    private static String bash(Set<String> global, Set<String> globalValued) {
        StringBuilder b = new StringBuilder("# taskid completion for bash: source <(taskid completion bash)\n");
        b.append("_taskid() {\n")
                .append("  local cur=${COMP_WORDS[COMP_CWORD]} cmd= i w\n")
                .append("  for ((i = 1; i < COMP_CWORD; i++)); do\n")
                .append("    w=${COMP_WORDS[i]}\n")
                .append("    case $w in\n")
                .append("      ").append(String.join("|", globalValued)).append(") ((i++)) ;;\n")
                .append("      -*) ;;\n")
                .append("      *) cmd=$w; break ;;\n")
                .append("    esac\n")
                .append("  done\n")
                .append("  case $cmd in\n");
        Set<String> names = new TreeSet<>();
        for (Cli.Command c : Cli.COMMANDS) {
            names.add(c.name());
            b.append("    ").append(c.name()).append(") COMPREPLY=($(compgen -W \"")
                    .append(String.join(" ", words(c, global))).append("\" -- \"$cur\")) ;;\n");
        }
        b.append("    *) COMPREPLY=($(compgen -W \"").append(String.join(" ", names)).append(' ')
                .append(String.join(" ", global)).append("\" -- \"$cur\")) ;;\n")
                .append("  esac\n")
                .append("}\n")
                .append("complete -o default -F _taskid taskid\n");
        return b.toString();
    }

    private static String fish(Set<String> global, Set<String> globalValued) {
        StringBuilder b = new StringBuilder("# taskid completion for fish: taskid completion fish > ~/.config/fish/completions/taskid.fish\n");
        b.append("complete -c taskid -f\n");
        for (String o : global) {
            b.append("complete -c taskid -l ").append(o.substring(2)).append(globalValued.contains(o) ? " -r" : "").append('\n');
        }
        for (Cli.Command c : Cli.COMMANDS) {
            b.append("complete -c taskid -n __fish_use_subcommand -a ").append(c.name())
                    .append(" -d '").append(firstSentence(c.help())).append("'\n");
            for (String o : new TreeSet<>(c.flags())) {
                b.append("complete -c taskid -n '__fish_seen_subcommand_from ").append(c.name()).append("' -l ")
                        .append(o.substring(2)).append('\n');
            }
            for (String o : new TreeSet<>(c.valued())) {
                b.append("complete -c taskid -n '__fish_seen_subcommand_from ").append(c.name()).append("' -l ")
                        .append(o.substring(2)).append(" -r\n");
            }
        }
        return b.toString();
    }

    /** What may follow a command: its sub-command words (from the synopsis) and options. */
    private static Set<String> words(Cli.Command c, Set<String> global) {
        Set<String> words = new TreeSet<>(c.flags());
        words.addAll(c.valued());
        words.add("--help");
        for (String token : c.synopsis().split("[ |\\[\\]]+")) {
            if (token.matches("[a-z][a-z0-9-]*") && !token.equals(c.name())) {
                words.add(token); // sub-commands and fixed values: install, claude, status, bash...
            }
        }
        if (c.name().equals("help")) {
            Cli.COMMANDS.forEach(x -> words.add(x.name()));
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
