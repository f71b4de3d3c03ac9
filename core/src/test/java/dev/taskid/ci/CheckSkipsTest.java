package dev.taskid.ci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code .ci/check-skips}, which {@code .ci/run} runs after {@code mvn verify}: a skipped test
 * fails the CI run unless {@code .ci/skips-allowed} lists it, so the fault, root-only, other-uid,
 * MCP-SDK and PostgreSQL proofs cannot go green unrun. Fed made-up surefire reports here.
 */
class CheckSkipsTest {
    private static final Path SCRIPT = Path.of("").toAbsolutePath().getParent().resolve(".ci/check-skips");

    @TempDir
    Path root;

    @Test
    void aSkippedProofFailsTheRunAndIsNamedWithItsReason() throws Exception {
        report("daemon", "dev.taskid.daemon.PersistFailureTest", """
                <testcase name="fullDisk" classname="dev.taskid.daemon.PersistFailureTest" time="0.1">
                  <skipped message="skipped: needs root and unshare -m to mount a tmpfs"/>
                </testcase>
                <testcase name="ok" classname="dev.taskid.daemon.PersistFailureTest" time="0.1"/>
                """);
        Processes.Result r = check();
        assertEquals(1, r.status(), r.toString());
        assertTrue(
                r.stderr().contains("dev.taskid.daemon.PersistFailureTest#fullDisk: skipped: needs root"),
                r.toString());
        assertTrue(r.stdout().contains("2 tests in 1 reports, 1 skipped, 1 not allowed"), r.toString());
    }

    @Test
    void anAllowedSkipAndRunTestsPass() throws Exception {
        report("client", "dev.taskid.state.StateDirTest", """
                <testcase name="outsideAnyRepositoryTheWorkingDirectoryIsGuessed()" classname="dev.taskid.state.StateDirTest" time="0">
                  <skipped message="/tmp holds a repository"/>
                </testcase>
                <testcase name="ok" classname="dev.taskid.state.StateDirTest" time="0.1"/>
                """);
        Processes.Result r = check();
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.stdout().contains("allowed skip dev.taskid.state.StateDirTest#outsideAny"), r.toString());
    }

    @Test
    void noReportsAtAllFails() {
        Processes.Result r = check();
        assertEquals(2, r.status(), r.toString());
    }

    private void report(String module, String testClass, String cases) throws Exception {
        Path dir = Files.createDirectories(root.resolve(module).resolve("target/surefire-reports"));
        Files.writeString(dir.resolve("TEST-" + testClass + ".xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuite name="%s" tests="2" skipped="1">
                %s</testsuite>
                """.formatted(testClass, cases));
    }

    private Processes.Result check() {
        Assumptions.assumeTrue(Processes.onPath("python3").isPresent(), "skipped: python3 is not on PATH");
        return Processes.run(
                List.of("python3", SCRIPT.toString(), root.toString()), root, Map.of(), Duration.ofSeconds(30));
    }
}
