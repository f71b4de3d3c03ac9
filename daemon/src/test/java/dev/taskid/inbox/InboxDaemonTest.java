package dev.taskid.inbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.Processes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The inbox and the collision check with a real daemon holding the state lock for its life:
 * the very {@link InboxScenario}s the file-lock mode passes in client's InboxCliTest, so both
 * modes give the same files.
 */
class InboxDaemonTest {
    @TempDir
    Path root;

    private DaemonProcess daemon;

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private InboxScenario withDaemon() {
        Path project = root.resolve("project");
        InboxScenario s = new InboxScenario(project).writeTasks();
        daemon = DaemonProcess.start(project.resolve(".taskid"));
        Processes.Result r = s.taskid("reserve", "DOC", "--verbose");
        assertTrue(r.stdout().contains("\"mode\":\"daemon\""), () -> "the CLI talks to the daemon\n" + r);
        return s;
    }

    @Test
    void validTasksBecomeRowsInvalidOnesStayWithTheSeedsMessage() {
        withDaemon().sequential();
    }

    @Test
    void concurrentProcessRunsAndSubmittersNeitherLoseNorDuplicateATask() throws Exception {
        withDaemon().concurrent(5, 3);
    }

    @Test
    void checkFixRaisesTheDaemonsCounter() throws Exception {
        InboxScenario s = withDaemon();
        Files.writeString(
                root.resolve("project/TASKS.md"),
                "| SEC-30 | Written without reserving | | | | | |\n",
                StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        Processes.Result check = s.taskid("check");
        assertEquals(1, check.status(), check::toString);
        assertTrue(
                check.stdout().contains("TASKS.md:9:SEC-30: above-counter: above its counter (SEC at 22)"),
                check::toString);
        Processes.Result fix = s.taskid("check", "--fix");
        assertEquals(0, fix.status(), fix::toString);
        assertTrue(fix.stdout().contains("raised SEC from 22 to 30"), fix::toString);
        Processes.Result next = s.taskid("reserve", "SEC", "--verbose");
        assertTrue(
                next.stdout().contains("\"ids\":[\"SEC-31\"]") && next.stdout().contains("\"mode\":\"daemon\""),
                () -> "the daemon itself was raised, not a file behind its back\n" + next);
    }
}
