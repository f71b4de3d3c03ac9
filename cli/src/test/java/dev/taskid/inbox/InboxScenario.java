package dev.taskid.inbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The inbox workflow of seed 000 driven through the real CLI (one JVM per command) in a project
 * directory, with its expected results spelled out. The same scenarios run in the file-lock mode
 * (client tests) and against a real daemon (daemon tests): both pass only if both modes give
 * these exact files.
 */
public final class InboxScenario {
    public static final Duration TIMEOUT = Duration.ofSeconds(120);
    /** Long enough that a loaded machine never turns waiting into LOCK_TIMEOUT. */
    private static final String LOCK_TIMEOUT = "60000";

    public static final String TASKS = "# Tasks\n\n"
            + "| ID | Title | Estimate | Priority | Status | | Source |\n"
            + "|---|---|---|---|---|---|---|\n"
            + "| SEC-21 | Old task | 1h | Low | done | | manual |\n"
            + "| SEC-22 | Fix auth | 1h | High | ready | | manual |\n"
            + "\nNotes: SEC-21 came from the audit.\n";

    private static final Pattern ROW = Pattern.compile("(?m)^\\| ([A-Z]+-[0-9]+) \\|");

    private final Path project;

    public InboxScenario(Path project) {
        this.project = project;
    }

    public Processes.Result taskid(byte[] stdin, String... args) {
        List<String> words = new ArrayList<>(List.of("--lock-timeout", LOCK_TIMEOUT));
        words.addAll(List.of(args));
        return Processes.run(Processes.taskid(words.toArray(String[]::new)), project, Map.of(), stdin, TIMEOUT);
    }

    public Processes.Result taskid(String... args) {
        return taskid(null, args);
    }

    public String read(String file) {
        try {
            return Files.readString(project.resolve(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void write(String file, String text) {
        try {
            Files.createDirectories(project.resolve(".taskid")); // the state lives here, whatever is above
            Files.createDirectories(project.resolve(file).getParent());
            Files.writeString(project.resolve(file), text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The project's TASKS.md ({@link #TASKS}) and state directory: before the first command or daemon. */
    public InboxScenario writeTasks() {
        write("TASKS.md", TASKS);
        return this;
    }

    /**
     * After {@link #writeTasks()}: submit (stdin, then FILE), process, process again, reserve, retry, check: valid tasks become
     * rows in the seed's format, an ID above its counter stays with the seed's message, an ID
     * already in TASKS.md stays with its reason, the seed's own inbox is processed too.
     */
    public void sequential() {
        write(
                ".claude/task-inbox.json",
                "{\n  \"tasks\": [\n    {\"id\": \"SEC-20\", \"title\": \"From the seed inbox\","
                        + " \"priority\": \"Medium\", \"source\": \"review:security-sentinel\", \"files\": [\"src/auth.js\"],"
                        + " \"estimate\": \"30m\", \"status\": \"ready\"}\n  ]\n}\n");
        String submitted = "{\"tasks\":["
                + "{\"id\":\"SEC-25\",\"title\":\"Rate limit login\",\"priority\":\"High\",\"source\":\"review\",\"estimate\":\"2h\"},"
                + "{\"id\":\"SEC-22\",\"title\":\"Another auth fix\",\"priority\":\"Low\"},"
                + "{\"id\":\"SEC-18\",\"title\":\"Audit cookies | sessions\",\"files\":[\"a.js\",\"b.js\"],\"status\":\"ready\"}]}";
        Processes.Result r = taskid(utf8(submitted), "inbox", "submit");
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.stdout().contains("queued 3 task(s)"), r::toString);
        write("review-tasks.json", submitted);
        Processes.Result repeated = taskid("inbox", "submit", "review-tasks.json", "--json");
        assertEquals(0, repeated.status(), repeated::toString);
        assertTrue(
                repeated.stdout().startsWith("{\"queued\":[],\"alreadyQueued\":[\"SEC-25\",\"SEC-22\",\"SEC-18\"]"),
                () -> "a repeated submit queues nothing twice\n" + repeated);

        Processes.Result p = taskid("inbox", "process");
        assertEquals(1, p.status(), () -> "exit 1: a task was rejected\n" + p);
        String seedMessage = "Invalid task ID SEC-25: counter at SEC-22. Run: taskid reserve SEC to reserve IDs first.";
        Path inbox = project.resolve(".taskid/inbox.json");
        assertTrue(p.stdout().contains("rejected SEC-25 (" + inbox + ":3): " + seedMessage), p::toString);
        assertTrue(
                p.stdout().contains("rejected SEC-22 (" + inbox + ":11): "),
                () -> "lines of the inbox as rewritten\n" + p);
        assertTrue(p.stdout().contains("added to " + project.resolve("TASKS.md") + ": SEC-18, SEC-20"), p::toString);
        assertTrue(p.stdout().contains("2 added, 0 already present, 2 rejected"), p::toString);
        String duplicateReason =
                "SEC-22 is already in TASKS.md (line 6: | SEC-22 | Fix auth | 1h | High | ready | | manual |);"
                        + " reserve a new ID with `taskid reserve SEC`";
        String afterFirst = "# Tasks\n\n"
                + "| ID | Title | Estimate | Priority | Status | | Source |\n"
                + "|---|---|---|---|---|---|---|\n"
                + "| SEC-21 | Old task | 1h | Low | done | | manual |\n"
                + "| SEC-22 | Fix auth | 1h | High | ready | | manual |\n"
                + "| SEC-18 | Audit cookies \\| sessions |  |  | ready | | inbox |\n"
                + "| SEC-20 | From the seed inbox | 30m | Medium | ready | | review:security-sentinel |\n"
                + "\nNotes: SEC-21 came from the audit.\n";
        assertEquals(afterFirst, read("TASKS.md"));
        assertEquals(
                "{\n"
                        + "  \"tasks\": [\n"
                        + "    {\n"
                        + "      \"id\": \"SEC-25\",\n"
                        + "      \"title\": \"Rate limit login\",\n"
                        + "      \"priority\": \"High\",\n"
                        + "      \"source\": \"review\",\n"
                        + "      \"estimate\": \"2h\",\n"
                        + "      \"reason\": \"" + seedMessage + "\"\n"
                        + "    },\n"
                        + "    {\n"
                        + "      \"id\": \"SEC-22\",\n"
                        + "      \"title\": \"Another auth fix\",\n"
                        + "      \"priority\": \"Low\",\n"
                        + "      \"reason\": \"" + duplicateReason + "\"\n"
                        + "    }\n"
                        + "  ]\n"
                        + "}\n",
                read(".taskid/inbox.json"));
        assertEquals(
                "{\n  \"tasks\": []\n}\n",
                read(".claude/task-inbox.json"),
                "the seed inbox is emptied, its layout kept");

        Processes.Result again = taskid("inbox", "process");
        assertEquals(0, again.status(), again::toString);
        assertTrue(
                again.stdout().contains("0 added, 0 already present, 0 rejected, 2 rejected earlier still waiting"),
                again::toString);
        assertEquals(afterFirst, read("TASKS.md"), "nothing twice");

        assertEquals(0, taskid("reserve", "SEC", "3").status());
        Processes.Result retry = taskid("inbox", "process", "--retry", "--json");
        assertEquals(1, retry.status(), retry::toString);
        assertTrue(
                retry.stdout()
                        .startsWith("{\"added\":[\"SEC-25\"],\"alreadyPresent\":[],\"rejected\":[{\"id\":\"SEC-22\","),
                retry::toString);
        assertEquals(
                afterFirst.replace(
                        "review:security-sentinel |\n",
                        "review:security-sentinel |\n| SEC-25 | Rate limit login | 2h | High | ready | | review |\n"),
                read("TASKS.md"));
        assertEquals(
                List.of("SEC-22"), rowsIn(read(".taskid/inbox.json"), Pattern.compile("\"id\": \"([A-Z]+-[0-9]+)\"")));

        Processes.Result check = taskid("check");
        assertEquals(0, check.status(), () -> "what the inbox added is consistent\n" + check);
    }

    /**
     * After {@link #writeTasks()}: {@code submitters} JVMs each submit four valid tasks and one with an ID never reserved,
     * while {@code processors} shell loops each run {@code inbox process} three times; then one
     * last run. Every task must end up exactly once: the valid ones as rows in TASKS.md, the
     * others in the inbox with a reason.
     */
    public void concurrent(int submitters, int processors) throws Exception {
        Processes.Result reserved = taskid("reserve", "SEC", String.valueOf(4 * submitters));
        assertEquals(0, reserved.status(), reserved::toString);
        Path script = Processes.taskidScript(project.resolveSibling(project.getFileName() + "-bin"));
        ExecutorService pool = Executors.newFixedThreadPool(submitters + processors);
        try {
            List<Future<Processes.Result>> runs = new ArrayList<>();
            for (int p = 0; p < processors; p++) {
                String loop = "for i in 1 2 3; do \"$0\" --lock-timeout " + LOCK_TIMEOUT + " inbox process >/dev/null;"
                        + " s=$?; [ $s -le 1 ] || exit $s; done";
                runs.add(pool.submit(
                        () -> Processes.run(List.of("sh", "-c", loop, script.toString()), project, Map.of(), TIMEOUT)));
            }
            for (int s = 0; s < submitters; s++) {
                StringBuilder tasks = new StringBuilder("[");
                for (int k = 0; k < 4; k++) {
                    int n = 23 + 4 * s + k;
                    tasks.append("{\"id\":\"SEC-")
                            .append(n)
                            .append("\",\"title\":\"Task ")
                            .append(n)
                            .append("\",\"source\":\"agent-")
                            .append(s)
                            .append("\"},");
                }
                tasks.append("{\"id\":\"SEC-")
                        .append(900 + s)
                        .append("\",\"title\":\"Never reserved ")
                        .append(s)
                        .append("\"}]");
                byte[] input = utf8(tasks.toString());
                runs.add(pool.submit(() -> taskid(input, "inbox", "submit")));
            }
            for (Future<Processes.Result> f : runs) {
                Processes.Result r = f.get();
                assertEquals(0, r.status(), r::toString);
            }
        } finally {
            pool.shutdownNow();
        }
        Processes.Result last = taskid("inbox", "process");
        assertTrue(last.status() <= 1, last::toString);

        Map<String, Integer> rows = count(rowsIn(read("TASKS.md"), ROW));
        Map<String, Integer> expectedRows = new TreeMap<>();
        expectedRows.put("SEC-21", 1);
        expectedRows.put("SEC-22", 1);
        for (int n = 23; n < 23 + 4 * submitters; n++) {
            expectedRows.put("SEC-" + n, 1);
        }
        assertEquals(expectedRows, rows, "every valid task exactly once in TASKS.md");
        String inbox = read(".taskid/inbox.json");
        Map<String, Integer> waiting = count(rowsIn(inbox, Pattern.compile("\"id\": \"([A-Z]+-[0-9]+)\"")));
        Map<String, Integer> expectedWaiting = new TreeMap<>();
        for (int s = 0; s < submitters; s++) {
            expectedWaiting.put("SEC-" + (900 + s), 1);
        }
        assertEquals(expectedWaiting, waiting, "every invalid task exactly once in the inbox\n" + inbox);
        assertEquals(
                submitters,
                rowsIn(inbox, Pattern.compile("\"reason\": \"(Invalid task ID SEC-9[0-9]+: counter at SEC-)"))
                        .size(),
                inbox);
    }

    private static List<String> rowsIn(String text, Pattern p) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static Map<String, Integer> count(List<String> ids) {
        Map<String, Integer> out = new TreeMap<>();
        ids.forEach(id -> out.merge(id, 1, Integer::sum));
        return out;
    }
}
