package dev.taskid.cli;

import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.state.StateFile;
import dev.taskid.testing.Processes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One test's repository: a directory with a {@code .git} directory, so the CLI, run there as
 * a real JVM without {@code --dir}, finds its state in {@code .taskid/} exactly as users' do.
 */
record CliRepo(Path root) {
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    static CliRepo in(Path dir) {
        try {
            Files.createDirectories(dir.resolve(".git"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new CliRepo(dir);
    }

    Path state() {
        return root.resolve(".taskid");
    }

    Path counters() {
        return state().resolve("counters.json");
    }

    /** Runs {@code taskid ARGS} in the repository root and waits for it. */
    Processes.Result taskid(String... args) {
        return Processes.run(Processes.taskid(args), root, Map.of(), TIMEOUT);
    }

    /** Runs several independent commands at once (two at a time: this machine has 2 cores). */
    List<Processes.Result> taskidEach(List<List<String>> commands) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Processes.Result>> running = commands.stream()
                    .map(c -> pool.submit(() -> taskid(c.toArray(String[]::new))))
                    .toList();
            List<Processes.Result> results = new java.util.ArrayList<>();
            for (Future<Processes.Result> f : running) {
                results.add(f.get());
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    void write(String relative, String text) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** The counter of {@code prefix} as stored in counters.json (0 when absent). */
    long counter(String prefix) {
        return new StateFile(counters(), new Json(), Clock.systemUTC())
                .read()
                .orElseThrow()
                .counters()
                .getOrDefault(prefix, 0L);
    }

    /** The one JSON object on {@code text}'s single line. */
    static Map<String, Object> object(String text) {
        byte[] bytes = text.trim().getBytes(StandardCharsets.UTF_8);
        try {
            return new Json().readObject(bytes, 0, bytes.length);
        } catch (JsonException e) {
            throw new AssertionError("not one JSON object: " + text, e);
        }
    }

    /** {@code error} of a {@code --json} error line on stderr. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> error(Processes.Result r) {
        return (Map<String, Object>) object(r.stderr()).get("error");
    }
}
