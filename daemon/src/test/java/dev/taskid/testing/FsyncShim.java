package dev.taskid.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * The LD_PRELOAD shim of {@code fsync-shim.c} (beside this class in the test resources),
 * compiled with gcc into a temp dir: makes fsync/fdatasync of chosen files fail with EIO or do
 * nothing, in a real daemon or CLI process. Skips the test where gcc is missing (CI has it,
 * and fails on a skipped test).
 */
public final class FsyncShim {
    private final Path library;
    private final Path log;

    private FsyncShim(Path library, Path log) {
        this.library = library;
        this.log = log;
    }

    /** Compiles the shim into {@code dir}. */
    public static FsyncShim compile(Path dir) throws IOException {
        Assumptions.assumeTrue(
                Processes.onPath("gcc").isPresent(), "skipped: gcc is not on PATH (apt-get install gcc)");
        Path source = dir.resolve("fsync-shim.c");
        try (InputStream in = FsyncShim.class.getResourceAsStream("fsync-shim.c")) {
            Files.write(source, in.readAllBytes());
        }
        Path library = dir.resolve("fsync-shim.so");
        Processes.Result r = Processes.run(
                List.of(
                        "gcc",
                        "-shared",
                        "-fPIC",
                        "-O1",
                        "-Wall",
                        "-Werror",
                        "-o",
                        library.toString(),
                        source.toString(),
                        "-ldl"),
                dir,
                Map.of(),
                Duration.ofSeconds(60));
        if (r.status() != 0) {
            throw new AssertionError("cannot compile the fsync shim: " + r);
        }
        return new FsyncShim(library, dir.resolve("fsync-shim.log"));
    }

    /** Environment that loads the shim with no fault: every call is only logged. */
    public Map<String, String> env() {
        return Map.of("LD_PRELOAD", library.toString(), "TASKID_SHIM_LOG", log.toString());
    }

    /**
     * Environment in which a sync of a path matching {@code regex} fails with EIO while
     * {@code trigger} exists: see {@link #once} and {@link #always}.
     */
    public Map<String, String> eio(String regex, Path trigger) {
        Map<String, String> env = new HashMap<>(env());
        env.put("TASKID_SHIM_EIO_MATCH", regex);
        env.put("TASKID_SHIM_EIO_TRIGGER", trigger.toString());
        return Map.copyOf(env);
    }

    /** Arms {@code trigger} for one failing call (the shim removes it when it fails one). */
    public static void once(Path trigger) throws IOException {
        Files.write(trigger, new byte[0]);
    }

    /** Arms {@code trigger} so that every matching call fails until it is removed. */
    public static void always(Path trigger) throws IOException {
        Files.writeString(trigger, "sticky");
    }

    /** Environment in which a sync of a path matching {@code regex} waits while {@code trigger} exists. */
    public Map<String, String> stall(String regex, Path trigger) {
        Map<String, String> env = new HashMap<>(env());
        env.put("TASKID_SHIM_STALL_MATCH", regex);
        env.put("TASKID_SHIM_STALL_TRIGGER", trigger.toString());
        return Map.copyOf(env);
    }

    /** Environment in which a sync of a path matching {@code regex} returns 0 and syncs nothing. */
    public Map<String, String> drop(String regex) {
        Map<String, String> env = new HashMap<>(env());
        env.put("TASKID_SHIM_DROP", regex);
        return Map.copyOf(env);
    }

    /** A pattern for {@link #eio}, {@link #stall} or {@link #drop} that matches {@code path} itself (a directory's own fsync). */
    public static String exactly(Path path) {
        return "^" + path.toString().replaceAll("[^A-Za-z0-9/_-]", "\\\\$0") + "$";
    }

    /** The calls seen so far, one "pid call path result" line each. */
    public List<String> calls() throws IOException {
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }
}
