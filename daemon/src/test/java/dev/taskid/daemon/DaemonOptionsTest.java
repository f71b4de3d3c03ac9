package dev.taskid.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code taskid daemon}'s command line, parsed by the options model the CLI uses: --help lists
 * the declared options; an unknown option or a bad value is a usage error (exit 2) that starts
 * nothing. Real JVMs.
 */
class DaemonOptionsTest {
    @TempDir
    Path tmp;

    private Processes.Result daemon(String... args) {
        List<String> command = new ArrayList<>(
                List.of(Processes.java(), "-cp", Processes.testClassPath(), "dev.taskid.daemon.DaemonMain"));
        command.addAll(List.of(args));
        return Processes.run(command, tmp, Map.of(), Duration.ofSeconds(60));
    }

    @Test
    void helpListsTheDeclaredOptionsAndBadLinesAreUsageErrors() {
        Processes.Result help = daemon("-h");
        assertEquals(0, help.status(), help.toString());
        assertTrue(help.stdout().startsWith("usage: taskid daemon [--dir PATH] [--lock-timeout MS]"), help.stdout());
        assertTrue(help.stdout().contains("--dir PATH") && help.stdout().contains("state directory"), help.stdout());

        Processes.Result unknown = daemon("--lock-timout", "5");
        assertEquals(2, unknown.status(), unknown.toString());
        assertTrue(
                unknown.stderr().contains("unknown option --lock-timout (did you mean \"--lock-timeout\"?)"),
                unknown.stderr());
        Processes.Result missing = daemon("--dir");
        assertEquals(2, missing.status(), missing.toString());
        assertTrue(missing.stderr().contains("--dir needs a value"), missing.stderr());
        Processes.Result negative = daemon("--dir=" + tmp.resolve("state"), "--lock-timeout", "-1");
        assertEquals(2, negative.status(), negative.toString());
        assertTrue(negative.stderr().contains("--lock-timeout takes milliseconds"), negative.stderr());
        Processes.Result positional = daemon("status");
        assertEquals(2, positional.status(), positional.toString());
        assertTrue(positional.stderr().contains("unknown argument status"), positional.stderr());
    }
}
