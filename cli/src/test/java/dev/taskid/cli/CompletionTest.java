package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user at a shell gets: completion scripts that complete commands, sub-commands and
 * options (checked by the shells themselves), "did you mean" for a mistyped command or option,
 * and the daemon's socket path without a daemon. Real CLI processes.
 */
class CompletionTest {
    @TempDir
    Path tmp;

    @Test
    void bashCompletesCommandsSubCommandsAndOptions() throws Exception {
        assumeTrue(Processes.onPath("bash").isPresent(), "skipped: no bash");
        CliRepo repo = CliRepo.in(tmp);
        Processes.Result script = repo.taskid("completion", "bash");
        assertEquals(0, script.status(), script.toString());
        Files.writeString(tmp.resolve("taskid.bash"), script.stdout());
        String probe = "source ./taskid.bash\n"
                + "c() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _taskid; echo \"${COMPREPLY[*]}\"; }\n"
                + "c taskid res\nc taskid --dir x sys\nc taskid systemd un\nc taskid reserve SEC --pu\n";
        Processes.Result r = Processes.run(List.of("bash", "-c", probe), tmp, Map.of(), CliRepo.TIMEOUT);
        assertEquals(0, r.status(), r.toString());
        assertEquals(
                List.of("reserve", "systemd", "uninstall", "--purpose"),
                r.stdout().lines().toList(),
                r.toString());
        for (String shell : List.of("zsh", "fish")) {
            Processes.Result s = repo.taskid("completion", shell);
            assertEquals(0, s.status(), s.toString());
            assertTrue(s.stdout().contains("reserve"), s.stdout());
            if (Processes.onPath(shell).isPresent()) {
                Path file = tmp.resolve("taskid." + shell);
                Files.writeString(file, s.stdout());
                Processes.Result check =
                        Processes.run(List.of(shell, "-n", file.toString()), tmp, Map.of(), CliRepo.TIMEOUT);
                assertEquals(0, check.status(), shell + " -n: " + check);
            }
        }
    }

    @Test
    void mistypedCommandsAndOptionsGetADidYouMean() {
        CliRepo repo = CliRepo.in(tmp);
        Processes.Result command = repo.taskid("rserve", "SEC");
        assertEquals(2, command.status());
        assertTrue(
                command.stderr().contains("unknown command \"rserve\" (did you mean \"reserve\"?)"), command.stderr());
        Processes.Result option = repo.taskid("reserve", "SEC", "--purpse", "x");
        assertEquals(2, option.status());
        assertTrue(option.stderr().contains("unknown option --purpse (did you mean \"--purpose\"?)"), option.stderr());
        Processes.Result far = repo.taskid("frobnicate");
        assertTrue(!far.stderr().contains("did you mean"), far.stderr());
    }

    @Test
    void socketPathWorksWithTheDaemonDown() {
        CliRepo repo = CliRepo.in(tmp);
        Processes.Result r = repo.taskid("socket-path");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.stdout().trim().endsWith("daemon.sock"), r.stdout());
        Processes.Result json = repo.taskid("--json", "socket-path");
        assertEquals(r.stdout().trim(), CliRepo.object(json.stdout()).get("socket"));
    }
}
