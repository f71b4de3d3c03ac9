package dev.taskid.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The distribution tarball this build made (system property {@code taskid.dist}). */
final class Dist {
    private Dist() {}

    /** Unpacks the tarball under {@code dir}; returns its top directory (bin/, lib/, docs/). */
    static Path unpack(Path dir) throws Exception {
        Path tarball = Path.of(System.getProperty("taskid.dist"));
        assertTrue(Files.isRegularFile(tarball), "missing " + tarball);
        Path unpacked = Files.createDirectories(dir.resolve("opt"));
        assertEquals(
                0,
                Processes.run(
                                List.of("tar", "-xzf", tarball.toString(), "-C", unpacked.toString()),
                                dir,
                                Map.of(),
                                Duration.ofSeconds(60))
                        .status());
        return unpacked.resolve(tarball.getFileName().toString().replace(".tar.gz", ""));
    }
}
