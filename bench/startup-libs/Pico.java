import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/** picocli's programmatic API (no annotations, no reflection) for the arguments; jackson-core for JSON. */
public final class Pico {
    public static void main(String[] args) throws Exception {
        CommandSpec top = CommandSpec.create().name("taskid");
        top.addOption(OptionSpec.builder("--dir").type(String.class).build());
        top.addOption(OptionSpec.builder("--json").type(boolean.class).build());
        CommandSpec reserve = CommandSpec.create().name("reserve");
        reserve.addPositional(PositionalParamSpec.builder().index("0").type(String.class).build());
        reserve.addPositional(PositionalParamSpec.builder().index("1").type(long.class).defaultValue("1").build());
        reserve.addOption(OptionSpec.builder("--purpose").type(String.class).build());
        reserve.addOption(OptionSpec.builder("--key").type(String.class).build());
        top.addSubcommand("reserve", reserve);
        for (String name : new String[] {"init", "show", "validate", "set", "import", "archive", "log", "stats", "doctor", "recover"}) {
            CommandSpec c = CommandSpec.create().name(name);
            c.addPositional(PositionalParamSpec.builder().index("0..*").type(String[].class).build());
            top.addSubcommand(name, c);
        }
        ParseResult parsed = new CommandLine(top).parseArgs(args);
        String dir = parsed.matchedOptionValue("--dir", ".");
        boolean json = parsed.matchedOptionValue("--json", false);
        ParseResult sub = parsed.subcommand();
        String prefix = sub.matchedPositionalValue(0, "SEC");
        long count = sub.matchedPositionalValue(1, 1L);
        Work.streaming(dir, prefix, count, json);
    }
}
