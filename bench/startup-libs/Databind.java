import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;

/** The same work through jackson-databind's ObjectMapper (trees), arguments by hand. */
public final class Databind {
    public static void main(String[] args) throws Exception {
        String dir = args[1];
        String prefix = args[3];
        long count = Long.parseLong(args[4]);
        ObjectMapper mapper = new ObjectMapper();
        JsonNode config = mapper.readTree(Work.config(Path.of(dir)));
        JsonNode counters = mapper.readTree(Work.counters(Path.of(dir)));
        long next = counters.path(prefix).asLong(0) + 1;
        ObjectNode out = mapper.createObjectNode();
        ArrayNode ids = out.putArray("ids");
        for (long n = next; n < next + count; n++) {
            ids.add(prefix + "-" + n);
        }
        out.put("json", config.size() > 0);
        System.out.println(mapper.writeValueAsString(out));
    }
}
