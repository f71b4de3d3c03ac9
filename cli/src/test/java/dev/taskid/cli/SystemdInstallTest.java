package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code taskid systemd install|uninstall} as a user runs it from a repository: {@code --system}
 * means the system-wide state in /var/lib/taskid (not the repository's), made reachable by
 * allowed users (0711); uninstall takes back what install wrote. Real CLI processes; the unit
 * files themselves are verified by systemd-analyze in the systemd module.
 */
class SystemdInstallTest {
    @TempDir
    Path tmp;

    @Test
    void systemInstallFromARepositoryMeansVarLibTaskid() throws Exception {
        CliRepo repo = CliRepo.in(tmp.resolve("repo"));
        Path units = tmp.resolve("units");
        Processes.Result r = run(repo, "systemd", "install", "--system", "--unit-dir", units.toString());
        assertEquals(0, r.status(), r.toString());
        String unit = Files.readString(units.resolve("taskid.service"));
        assertTrue(unit.contains("ExecStart=" + launcher() + " daemon --dir /var/lib/taskid\n"), unit);
        assertTrue(
                unit.contains("StateDirectory=taskid\nStateDirectoryMode=0711\n"),
                "allowed users reach the socket: " + unit);
        assertFalse(unit.contains(repo.root().toString()), "nothing of the repository: " + unit);
        assertFalse(unit.contains("ReadWritePaths"), unit);
        assertTrue(r.stdout().contains("TASKID_DIR=/var/lib/taskid"), r.stdout());

        Processes.Result named = run(
                repo, "--dir", "/root/taskid-state", "systemd", "install", "--system", "--unit-dir", units.toString());
        assertEquals(0, named.status(), named.toString());
        unit = Files.readString(units.resolve("taskid.service"));
        assertTrue(
                unit.contains("--dir /root/taskid-state\n") && unit.contains("ReadWritePaths=/root/taskid-state\n"),
                unit);
        assertTrue(
                unit.contains("ProtectHome=read-only\n")
                        && !unit.contains("StateDirectory=taskid")
                        && !unit.contains("/var/lib/taskid"),
                "a state directory in a home must stay visible: " + unit);

        Processes.Result removed = run(repo, "systemd", "uninstall", "--system", "--unit-dir", units.toString());
        assertEquals(0, removed.status(), removed.toString());
        assertFalse(Files.exists(units.resolve("taskid.service")));
    }

    @Test
    void uninstallReversesInstall() throws Exception {
        CliRepo repo = CliRepo.in(tmp.resolve("repo"));
        CliRepo other = CliRepo.in(tmp.resolve("other"));
        Path units = tmp.resolve("units");
        Processes.Result install = run(
                repo,
                "--dir",
                repo.root().resolve("state").toString(),
                "systemd",
                "install",
                "--unit-dir",
                units.toString());
        assertEquals(0, install.status(), install.toString());
        assertEquals(
                0,
                run(
                                other,
                                "--dir",
                                other.root().resolve("state").toString(),
                                "systemd",
                                "install",
                                "--unit-dir",
                                units.toString())
                        .status());
        assertTrue(Files.exists(units.resolve("taskid@.socket")) && Files.exists(units.resolve("taskid@.service")));

        Processes.Result first = run(
                repo,
                "--dir",
                repo.root().resolve("state").toString(),
                "systemd",
                "uninstall",
                "--unit-dir",
                units.toString());
        assertEquals(0, first.status(), first.toString());
        assertTrue(
                first.stdout().contains("removed") && first.stdout().contains("kept"),
                "the other repository still uses" + " the templates: " + first.stdout());
        assertTrue(Files.exists(units.resolve("taskid@.service")));

        Processes.Result last = run(
                other,
                "--dir",
                other.root().resolve("state").toString(),
                "systemd",
                "uninstall",
                "--unit-dir",
                units.toString());
        assertEquals(0, last.status(), last.toString());
        assertFalse(last.stdout().contains("nothing to remove"), last.stdout());
        try (var left = Files.list(units)) {
            assertEquals(List.of(), left.toList(), "the last uninstall leaves nothing behind");
        }
    }

    private Path launcher() {
        return tmp.resolve("bin/taskid");
    }

    /** The CLI as the launcher runs it (TASKID_LAUNCHER names the launcher the units point at). */
    private Processes.Result run(CliRepo repo, String... args) throws Exception {
        Files.createDirectories(launcher().getParent());
        if (!Files.exists(launcher())) {
            Files.writeString(launcher(), "#!/bin/sh\nexit 0\n");
            assertTrue(launcher().toFile().setExecutable(true));
        }
        List<String> command = new ArrayList<>(Processes.taskid(args));
        return Processes.run(
                command,
                repo.root(),
                Map.of(
                        "TASKID_LAUNCHER",
                        launcher().toString(),
                        "XDG_CONFIG_HOME",
                        tmp.resolve("config").toString()),
                CliRepo.TIMEOUT);
    }
}
