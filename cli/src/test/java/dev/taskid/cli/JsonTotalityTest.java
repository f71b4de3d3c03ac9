package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under {@code --json} every exit path speaks JSON: results as one object on stdout, errors
 * (usage errors included) as one error object on stderr; and each error says what happened
 * with the code and exit status of README "Exit status". Real JVMs in a fresh repository,
 * no daemon.
 */
class JsonTotalityTest {
    @TempDir
    Path tmp;

    @Test
    void usageErrorsAreJsonErrorsUnderJson() {
        CliRepo repo = CliRepo.in(tmp);
        for (List<String> argv : List.of(
                List.of("--json", "reserve"),
                List.of("--json", "frob"),
                List.of("--json", "reserve", "SEC", "--bogus"),
                List.of("--json", "log", "a", "b", "c"),
                List.of("--json", "shim", "install", "emacs"),
                List.of("--json", "inbox", "frob"),
                List.of("--json"))) {
            Processes.Result r = repo.taskid(argv.toArray(String[]::new));
            assertEquals(2, r.status(), argv + ": " + r);
            assertEquals("", r.stdout(), argv + ": nothing on stdout");
            Map<String, Object> error = CliRepo.error(r);
            assertEquals("BAD_REQUEST", error.get("code"), argv + ": " + r.stderr());
            assertTrue(String.valueOf(error.get("details")).contains("usage"), r.stderr());
        }
    }

    @Test
    void daemonStatusAndStopWithoutADaemonSayRunningFalse() {
        CliRepo repo = CliRepo.in(tmp);
        Processes.Result status = repo.taskid("--json", "daemon", "status");
        assertEquals(3, status.status(), status.toString());
        assertEquals(false, CliRepo.object(status.stdout()).get("running"), status.toString());
        Processes.Result stop = repo.taskid("daemon", "stop", "--json");
        assertEquals(0, stop.status(), stop.toString());
        assertEquals(false, CliRepo.object(stop.stdout()).get("running"), stop.toString());
    }

    /** One scheme: each exit status means one thing (README "Exit status"). */
    @Test
    void errorsCarryTheCodeThatSaysWhatHappened() {
        CliRepo repo = CliRepo.in(tmp);
        Processes.Result bare = repo.taskid();
        assertEquals(2, bare.status(), "no command: a usage error");
        assertEquals("", bare.stdout(), "usage goes to stderr when it is an error");
        assertTrue(bare.stderr().contains("usage: taskid"), bare.stderr());
        Processes.Result help = repo.taskid("--help");
        assertEquals(0, help.status());
        assertTrue(help.stdout().contains("usage: taskid"), help.stdout());

        Processes.Result nothing = repo.taskid("import");
        assertEquals(1, nothing.status(), "nothing to import is not a disk error (6): " + nothing);
        assertTrue(nothing.stderr().contains("nothing to import"), nothing.stderr());
        Processes.Result nothingJson = repo.taskid("--json", "import");
        assertEquals(1, nothingJson.status(), nothingJson.toString());
        assertEquals(List.of(), CliRepo.object(nothingJson.stdout()).get("imported"), nothingJson.toString());

        Processes.Result log = repo.taskid("log", "FOO");
        assertEquals(3, log.status(), "unknown prefix, like show FOO: " + log);
        assertTrue(log.stderr().contains("INVALID_PREFIX") && log.stderr().contains("FOO"), log.stderr());
        Processes.Result show = repo.taskid("--json", "log", "FOO");
        assertEquals("INVALID_PREFIX", CliRepo.error(show).get("code"));

        assertEquals(0, repo.taskid("reserve", "SEC").status(), "creates the state (its notice is not under test)");
        Processes.Result negative = repo.taskid("--json", "set", "SEC", "-3");
        assertEquals(2, negative.status(), negative.toString());
        assertEquals("BAD_REQUEST", CliRepo.error(negative).get("code"), "not an overflow: " + negative.stderr());
    }
}
