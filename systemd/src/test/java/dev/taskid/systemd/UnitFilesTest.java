package dev.taskid.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every unit file passes {@code systemd-analyze verify}. It exits 0 on unknown keys with only a
 * warning, so any output on stderr fails the test.
 */
class UnitFilesTest {
    private static final Path UNITS = Path.of(System.getProperty("taskid.units"));

    @TempDir
    Path tmp;

    @Test
    void perRepositoryUserUnitsVerify() throws Exception {
        assumeTrue(Processes.onPath("systemd-analyze").isPresent(), "systemd-analyze is not installed");
        Path repo = Files.createDirectories(tmp.resolve("repo/.taskid"));
        Files.createDirectories(tmp.resolve("repo/.git/taskid"));
        Path launcher = executable();
        // Units are verified as instances: the template's %I must expand to a real path.
        String instance = Processes.run(
                        List.of("systemd-escape", "--path", repo.getParent().toString()),
                        tmp,
                        Map.of(),
                        Duration.ofSeconds(30))
                .stdout()
                .trim();
        List<String> files = new ArrayList<>();
        for (String suffix : List.of(".socket", ".service")) {
            String text =
                    Files.readString(UNITS.resolve("taskid@" + suffix)).replace("/usr/bin/taskid", launcher.toString());
            Path unit = tmp.resolve("taskid@" + instance + suffix);
            Files.writeString(unit, text);
            files.add(unit.toString());
        }
        verify(true, files);
    }

    @Test
    void systemWideServiceVerifies() throws Exception {
        assumeTrue(Processes.onPath("systemd-analyze").isPresent(), "systemd-analyze is not installed");
        Path unit = tmp.resolve("taskid.service");
        Files.writeString(
                unit,
                Files.readString(UNITS.resolve("taskid.service"))
                        .replace("/usr/bin/taskid", executable().toString()));
        verify(false, List.of(unit.toString()));
    }

    private Path executable() throws Exception {
        Path launcher = tmp.resolve("bin/taskid");
        Files.createDirectories(launcher.getParent());
        Files.writeString(launcher, "#!/bin/sh\nexit 0\n");
        launcher.toFile().setExecutable(true);
        return launcher;
    }

    private void verify(boolean user, List<String> units) throws Exception {
        Path runtime = Files.createDirectories(tmp.resolve("runtime"));
        // --man=no: Documentation=man:taskid(1) is installed by the Debian package (DebianPackageTest
        // verifies the units with it), not on this machine.
        List<String> cmd = new ArrayList<>(List.of("systemd-analyze", "verify", "--man=no"));
        if (user) {
            cmd.add("--user");
        }
        cmd.addAll(units);
        Processes.Result r = Processes.run(
                cmd,
                tmp,
                Map.of("XDG_RUNTIME_DIR", runtime.toString(), "SYSTEMD_LOG_COLOR", "0"),
                Duration.ofSeconds(60));
        assertEquals("", r.stderr(), "systemd-analyze verify complained");
        assertEquals(0, r.status());
    }
}
