package dev.taskid.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tarball works wherever it is unpacked: its launcher finds its own jars, no build needed. */
class DistributionTest {
    @TempDir
    Path tmp;

    @Test
    void unpackedTarballReserves() throws Exception {
        Path tarball = Path.of(System.getProperty("taskid.dist"));
        assertTrue(Files.isRegularFile(tarball), "missing " + tarball);
        Path unpacked = Files.createDirectories(tmp.resolve("opt"));
        assertEquals(0, Commands.run(List.of("tar", "-xzf", tarball.toString(), "-C", unpacked.toString()),
                tmp, Map.of(), Duration.ofSeconds(60)).exit());
        Path home = unpacked.resolve(tarball.getFileName().toString().replace(".tar.gz", ""));
        for (String entry : List.of("bin/taskid", "lib/taskid-cli.jar", "lib/taskid-daemon.jar",
                "systemd/taskid@.socket", "systemd/taskid@.service", "systemd/taskid.service", "README.md")) {
            assertTrue(Files.exists(home.resolve(entry)), "tarball lacks " + entry);
        }
        Path work = Files.createDirectories(tmp.resolve("work"));
        Commands.Result r = Commands.run(List.of(home.resolve("bin/taskid").toString(), "--dir",
                work.resolve(".taskid").toString(), "reserve", "SEC"), work,
                Map.of("JAVA_HOME", System.getProperty("java.home")), Duration.ofSeconds(120));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().matches("\\{\"ids\":\\[\"SEC-1\"],\"reservedAt\":\"[^\"]+Z\"}\\n"), r.out());
    }
}
