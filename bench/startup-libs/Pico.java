import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
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
        JsonFactory f = new JsonFactory();
        Map<String, Long> counters = new HashMap<>();
        try (JsonParser p = f.createParser(Work.config(Path.of(dir)))) {
            while (p.nextToken() != null) {
                // walked, as in CoreArgs
            }
        }
        try (JsonParser p = f.createParser(Work.counters(Path.of(dir)))) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                counters.put(name, p.getLongValue());
            }
        }
        long next = counters.getOrDefault(prefix, 0L) + 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = f.createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("ids");
            for (long n = next; n < next + count; n++) {
                g.writeString(prefix + "-" + n);
            }
            g.writeEndArray();
            g.writeBooleanField("json", json);
            g.writeEndObject();
        }
        System.out.println(out);
    }
}
