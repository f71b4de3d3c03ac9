import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Today's CLI shape: a hand-written argument loop and jackson-core's streaming API. */
public final class CoreArgs {
    public static void main(String[] args) throws Exception {
        String dir = null;
        boolean json = false;
        String command = null;
        String prefix = null;
        long count = 1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--dir")) {
                dir = args[++i];
            } else if (a.equals("--json")) {
                json = true;
            } else if (command == null) {
                command = a;
            } else if (prefix == null) {
                prefix = a;
            } else {
                count = Long.parseLong(a);
            }
        }
        JsonFactory f = new JsonFactory();
        Map<String, Long> counters = new HashMap<>();
        try (JsonParser p = f.createParser(Work.config(Path.of(dir)))) {
            while (p.nextToken() != null) {
                // a real config is validated field by field; walking it is the cost that matters here
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
