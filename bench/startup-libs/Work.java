import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** What every variant does at start, as the CLI does: read config.json and counters.json, answer one line. */
final class Work {
    private Work() {
    }

    static byte[] config(Path dir) throws Exception {
        return Files.readAllBytes(dir.resolve("config.json"));
    }

    static byte[] counters(Path dir) throws Exception {
        return Files.readAllBytes(dir.resolve("counters.json"));
    }

    /** The jackson-core streaming way (today's CLI): walk the config, read the counters, print the IDs. */
    static void streaming(String dir, String prefix, long count, boolean json) throws Exception {
        JsonFactory f = new JsonFactory();
        Map<String, Long> counters = new HashMap<>();
        try (JsonParser p = f.createParser(config(Path.of(dir)))) {
            while (p.nextToken() != null) {
                // a real config is validated field by field; walking it is the cost that matters here
            }
        }
        try (JsonParser p = f.createParser(counters(Path.of(dir)))) {
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
