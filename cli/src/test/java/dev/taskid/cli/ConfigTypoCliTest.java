package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.testing.Processes;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A typo in .taskid/config.json is CONFIG_INVALID naming the key, with a did-you-mean; doctor fails. */
class ConfigTypoCliTest {
    @TempDir
    Path tmp;

    @Test
    void anUnknownKeyIsNamedWithItsLikelySpelling() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        repo.write(".taskid/config.json", "{\"extraPrefix\":[\"QA\"]}");
        Processes.Result reserve = repo.taskid("reserve", "QA");
        assertEquals(ErrorCode.CONFIG_INVALID.exitStatus(), reserve.status(), reserve.toString());
        assertTrue(
                reserve.stderr().contains("CONFIG_INVALID")
                        && reserve.stderr().contains("unknown key \"extraPrefix\"")
                        && reserve.stderr().contains("did you mean \"extraPrefixes\"?"),
                reserve.toString());
        Processes.Result doctor = repo.taskid("doctor");
        assertTrue(doctor.status() != 0 && doctor.stdout().contains("unknown key \"extraPrefix\""), doctor.toString());
    }
}
