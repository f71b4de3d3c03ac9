package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taskid.cli.command.Spec;
import dev.taskid.protocol.Version;
import dev.taskid.testing.Processes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/taskid.1 (shipped in the Debian package) is the manual page rendered from the command
 * table, so it names every command and option the CLI has. Refresh it with
 * {@code mvn -pl cli -am test -Dtest=ManPageTest -Dsurefire.failIfNoSpecifiedTests=false -Dtaskid.updateDocs=true}.
 */
class ManPageTest {
    @TempDir
    Path tmp;

    @Test
    void docsTaskid1IsTheRenderedCommandTable() throws Exception {
        Path file = Path.of(System.getProperty("basedir", ""))
                .toAbsolutePath()
                .getParent()
                .resolve("docs/taskid.1");
        String page = ManPage.render(Version.CURRENT);
        if (Boolean.getBoolean("taskid.updateDocs")) {
            Files.writeString(file, page, StandardCharsets.UTF_8);
        }
        assertEquals(
                page,
                Files.readString(file, StandardCharsets.UTF_8),
                "docs/taskid.1 is stale; refresh it (see javadoc)");
        for (Spec c : Commands.specs()) {
            assertTrue(page.contains(".B " + c.name().replace("-", "\\-")), c.name());
        }
    }

    @Test
    void manFormatsItWithoutWarnings() throws Exception {
        assumeTrue(Processes.onPath("man").isPresent(), "skipped: man is not installed");
        Path file = tmp.resolve("taskid.1");
        Files.writeString(file, ManPage.render(Version.CURRENT));
        Processes.Result r = Processes.run(
                List.of("man", "--warnings", "-l", file.toString()),
                tmp,
                Map.of("MANPAGER", "cat", "MANWIDTH", "100"),
                Duration.ofSeconds(60));
        assertEquals(0, r.status(), r.toString());
        assertEquals("", r.stderr(), "groff warnings");
        assertTrue(r.stdout().contains("EXIT STATUS") && r.stdout().contains("LOCK_TIMEOUT"), r.stdout());
    }
}
