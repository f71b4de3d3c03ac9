package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A counters.json that is valid but behind what was handed out (a backup restored, a copy from
 * another clone, a hand edit) is never trusted: reservations refuse with STATE_CORRUPT, validate
 * still says what was issued, doctor fails, and recover raises the counters (never lowers).
 */
class RewoundStateCliTest {
    @TempDir
    Path tmp;

    @Test
    void aRestoredBackupIsRefusedAndRecoverRaisesIt() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        assertEquals(0, repo.taskid("reserve", "SEC", "5").status());
        byte[] backup = Files.readAllBytes(repo.counters()); // SEC at 5
        assertEquals(0, repo.taskid("reserve", "SEC", "3").status()); // SEC-6..8 handed out
        Files.write(repo.counters(), backup);

        Processes.Result reserve = repo.taskid("--json", "reserve", "SEC");
        assertEquals(ErrorCode.STATE_CORRUPT.exitStatus(), reserve.status(), reserve.toString());
        assertEquals("", reserve.stdout(), reserve.toString());
        assertEquals("STATE_CORRUPT", CliRepo.error(reserve).get("code"));
        String message = (String) CliRepo.error(reserve).get("message");
        assertTrue(message.contains("SEC at 5 but 8 was issued") && message.contains("taskid recover"), message);
        assertArrayEquals(backup, Files.readAllBytes(repo.counters()), "nothing written");

        Processes.Result validate = repo.taskid("validate", "SEC-7");
        assertEquals(0, validate.status(), "SEC-7 was issued: " + validate);
        assertTrue(validate.stderr().contains("STATE_CORRUPT"), "and the rewind is said: " + validate);

        Processes.Result doctor = repo.taskid("doctor");
        assertTrue(
                doctor.status() != 0
                        && doctor.stdout().contains("FAIL")
                        && doctor.stdout().contains("rewound"),
                doctor.toString());

        Processes.Result plan = repo.taskid("recover");
        assertEquals(1, plan.status(), "a plan, nothing written: " + plan);
        assertTrue(plan.stdout().contains("REWOUND"), plan.toString());
        Processes.Result recovered = repo.taskid("recover", "--yes");
        assertEquals(0, recovered.status(), recovered.toString());
        assertEquals(8L, repo.counter("SEC"));
        Processes.Result next = repo.taskid("reserve", "SEC");
        assertEquals(0, next.status(), next.toString());
        assertEquals(List.of("SEC-9"), CliRepo.object(next.stdout()).get("ids"), next.toString());
        assertEquals(0, repo.taskid("doctor").status());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"version\":1,\"counters\":{}}",
                "{\"version\":1,\"counters\":{\"SEC\":100,\"SEC\":3}}",
                "{\"version\":1,\"counters\":{},\"keys\":[null]}",
            })
    void emptiedDuplicatedOrBrokenCountersAreStateCorrupt(String content) throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        assertEquals(0, repo.taskid("reserve", "SEC", "4").status());
        Files.writeString(repo.counters(), content);
        for (Processes.Result r : repo.taskidEach(List.of(List.of("reserve", "SEC"), List.of("set", "SEC", "10")))) {
            assertEquals(ErrorCode.STATE_CORRUPT.exitStatus(), r.status(), r.toString());
            assertTrue(r.stderr().startsWith("taskid: STATE_CORRUPT: "), r.toString());
        }
        assertEquals(content, Files.readString(repo.counters()));
        assertEquals(0, repo.taskid("recover", "--yes").status());
        Processes.Result next = repo.taskid("reserve", "SEC");
        assertEquals(List.of("SEC-5"), CliRepo.object(next.stdout()).get("ids"), next.toString());
    }
}
