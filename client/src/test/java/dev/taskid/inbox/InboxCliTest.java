package dev.taskid.inbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code taskid inbox} in the file-lock mode (no daemon), through the real CLI in child JVMs.
 * daemon/src/test's InboxDaemonTest runs the same {@link InboxScenario}s against a real daemon.
 */
class InboxCliTest {
    @TempDir
    Path root;

    @Test
    void validTasksBecomeRowsInvalidOnesStayWithTheSeedsMessage() {
        new InboxScenario(root.resolve("project")).writeTasks().sequential();
    }

    @Test
    void concurrentProcessRunsAndSubmittersNeitherLoseNorDuplicateATask() throws Exception {
        new InboxScenario(root.resolve("project")).writeTasks().concurrent(5, 3);
    }

    @Test
    void malformedSubmitsQueueNothingAndACorruptInboxIsLeftAlone() throws Exception {
        InboxScenario s = new InboxScenario(root.resolve("project"));
        Files.createDirectories(root.resolve("project/.taskid"));
        Processes.Result noId = s.taskid("[{\"id\":\"SEC-1\",\"title\":\"ok\"},{\"title\":\"no id\"}]"
                .getBytes(StandardCharsets.UTF_8), "inbox", "submit");
        assertEquals(2, noId.status(), noId::toString);
        assertTrue(noId.stderr().contains("BAD_REQUEST") && noId.stderr().contains("nothing was queued"), noId::toString);
        assertTrue(Files.notExists(root.resolve("project/.taskid/inbox.json")));

        Path inbox = root.resolve("project/.taskid/inbox.json");
        Files.writeString(inbox, "{\"tasks\":[{\"id\":\"SEC-1\",");
        Processes.Result corrupt = s.taskid("inbox", "process");
        assertEquals(5, corrupt.status(), corrupt::toString);
        assertTrue(corrupt.stderr().contains("STATE_CORRUPT"), corrupt::toString);
        assertEquals("{\"tasks\":[{\"id\":\"SEC-1\",", Files.readString(inbox), "never overwritten");

        Processes.Result usage = s.taskid("inbox", "frobnicate");
        assertEquals(2, usage.status(), usage::toString);
    }
}
