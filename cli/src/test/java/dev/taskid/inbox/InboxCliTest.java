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

    /**
     * The state a crash between the two writes leaves (TASKS.md has the row, the inbox still has
     * the task): the next run removes the task and adds nothing. And a rejected task submitted
     * again is queued again in its place, never twice.
     */
    @Test
    void aRowAlreadyWrittenIsNotAddedTwiceAndAResubmittedRejectionIsNotDuplicated() throws Exception {
        Path project = root.resolve("project");
        InboxScenario s = new InboxScenario(project).writeTasks();
        String row = "| SEC-20 | Written before the crash | 1h | High | ready | | review |\n";
        Files.writeString(
                project.resolve("TASKS.md"), InboxScenario.TASKS.replace("| SEC-21 |", row.trim() + "\n| SEC-21 |"));
        String tasksBefore = Files.readString(project.resolve("TASKS.md"));
        Files.writeString(
                project.resolve(".taskid/inbox.json"),
                "{\"tasks\":[{\"id\":\"SEC-20\",\"title\":\"Written before the crash\","
                        + "\"priority\":\"High\",\"source\":\"review\",\"estimate\":\"1h\"}]}\n");
        Processes.Result p = s.taskid("inbox", "process");
        assertEquals(0, p.status(), p::toString);
        assertTrue(p.stdout().contains("0 added, 1 already present, 0 rejected"), p::toString);
        assertEquals(tasksBefore, Files.readString(project.resolve("TASKS.md")));
        assertEquals("{\n  \"tasks\": []\n}\n", Files.readString(project.resolve(".taskid/inbox.json")));

        byte[] task = "{\"id\":\"SEC-40\",\"title\":\"Not reserved yet\"}".getBytes(StandardCharsets.UTF_8);
        assertEquals(0, s.taskid(task, "inbox", "submit").status());
        assertEquals(1, s.taskid("inbox", "process").status());
        Processes.Result again = s.taskid(task, "inbox", "submit");
        assertTrue(again.stdout().contains("queued 1 task(s)"), again::toString);
        String inbox = Files.readString(project.resolve(".taskid/inbox.json"));
        assertEquals(1, inbox.split("\"id\": \"SEC-40\"", -1).length - 1, inbox);
        assertTrue(!inbox.contains("reason"), () -> "queued again, without the old reason\n" + inbox);
        assertEquals(1, s.taskid("inbox", "process").status());
        String after = Files.readString(project.resolve(".taskid/inbox.json"));
        assertEquals(1, after.split("\"id\": \"SEC-40\"", -1).length - 1, after);
        assertTrue(after.contains("\"reason\": \"Invalid task ID SEC-40: counter at SEC-22."), after);
    }

    @Test
    void malformedSubmitsQueueNothingAndACorruptInboxIsLeftAlone() throws Exception {
        InboxScenario s = new InboxScenario(root.resolve("project"));
        Files.createDirectories(root.resolve("project/.taskid"));
        Processes.Result noId = s.taskid(
                "[{\"id\":\"SEC-1\",\"title\":\"ok\"},{\"title\":\"no id\"}]".getBytes(StandardCharsets.UTF_8),
                "inbox",
                "submit");
        assertEquals(2, noId.status(), noId::toString);
        assertTrue(
                noId.stderr().contains("BAD_REQUEST") && noId.stderr().contains("nothing was queued"), noId::toString);
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
