import java.nio.file.Files;
import java.nio.file.Path;

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
}
