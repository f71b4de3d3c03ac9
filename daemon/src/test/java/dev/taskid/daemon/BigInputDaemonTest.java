package dev.taskid.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.protocol.Protocol;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.Processes;
import dev.taskid.testing.Processes.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the client sends in one piece must fit the daemon's 64 KiB line (issue 10 item 12):
 * init sends scanned floors, not TASKS.md; validate, check and the MCP tool split by encoded
 * size. And init reads only regular files, in the client, within a bound (item 8): /dev/zero
 * and a FIFO are refused at once, in daemon and file-lock mode alike.
 */
@Timeout(300)
class BigInputDaemonTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int IDS = 12_000;

    @TempDir
    Path tmp;

    @Test
    void initValidateCheckAndTheMcpToolWorkPastTheLineLimitWithADaemon() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("repo"));
        Files.createDirectories(repo.resolve(".git"));
        Path state = Files.createDirectories(repo.resolve(".taskid"));
        List<String> ids =
                IntStream.rangeClosed(1, IDS).mapToObj(n -> "SEC-" + n).toList();
        String tasks = ids.stream().map(id -> "| " + id + " | a task |").collect(Collectors.joining("\n", "", "\n"));
        assertTrue(tasks.length() > 4 * Protocol.MAX_LINE_BYTES, "TASKS.md is far beyond one line");
        try (DaemonProcess daemon = DaemonProcess.start(state)) {
            Files.writeString(repo.resolve("TASKS.md"), tasks); // after the start, which would seed from it
            Result init = taskid(repo, null, "--no-fallback", "init");
            assertEquals(0, init.status(), init::toString);
            assertTrue(
                    init.stdout().contains("from " + IDS + " tasks")
                            && init.stdout().contains("→ " + IDS + "   (was 0)"),
                    init::toString);

            List<String> validate = new ArrayList<>(List.of("--no-fallback", "validate"));
            validate.addAll(ids);
            Result valid = taskid(repo, null, validate.toArray(String[]::new));
            assertEquals(0, valid.status(), valid.stderr());
            assertEquals(
                    IDS,
                    valid.stdout().lines().filter(l -> l.endsWith(" issued")).count());

            Result check = taskid(repo, null, "--no-fallback", "check", "TASKS.md");
            assertEquals(0, check.status(), check::toString);

            String call =
                    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"validate_task_ids\","
                            + "\"arguments\":{\"ids\":["
                            + ids.subList(0, 10_000).stream()
                                    .map(id -> "\"" + id + "\"")
                                    .collect(Collectors.joining(","))
                            + "]}}}";
            String session = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                    + "\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}\n"
                    + "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n" + call + "\n";
            Result mcp = taskid(repo, session.getBytes(StandardCharsets.UTF_8), "--no-fallback", "mcp");
            String answer = mcp.stdout()
                    .lines()
                    .filter(l -> l.contains("\"id\":2"))
                    .findFirst()
                    .orElse("");
            assertTrue(
                    answer.contains("\\\"allIssued\\\":true") || answer.contains("\"allIssued\":true"), mcp::toString);
            assertTrue(daemon.answers(), "the daemon still serves");
        }
    }

    @Test
    void initRefusesDevicesAndFifosAtOnceInBothModes() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("dev"));
        Files.createDirectories(repo.resolve(".git"));
        Path state = Files.createDirectories(repo.resolve(".taskid"));
        Path fifo = repo.resolve("fifo.md");
        Result mkfifo = Processes.run(List.of("mkfifo", fifo.toString()), repo, Map.of(), TIMEOUT);
        assertEquals(0, mkfifo.status(), mkfifo::toString);
        for (boolean withDaemon : new boolean[] {true, false}) {
            try (DaemonProcess daemon = withDaemon ? DaemonProcess.start(state) : null) {
                for (String file : List.of("/dev/zero", fifo.toString())) {
                    long start = System.nanoTime();
                    Result init = taskid(repo, null, "init", file);
                    String mode = (withDaemon ? "daemon" : "file lock") + ", " + file;
                    assertEquals(2, init.status(), mode + ": " + init);
                    assertTrue(
                            init.stderr().contains("BAD_REQUEST")
                                    && init.stderr().contains("not a regular file"),
                            mode + ": " + init);
                    assertTrue(System.nanoTime() - start < TIMEOUT.toNanos() / 2, mode + ": answered at once");
                }
                if (daemon != null) {
                    assertTrue(daemon.answers(), "the daemon still serves");
                }
            }
        }
    }

    private static Result taskid(Path repo, byte[] stdin, String... args) {
        return Processes.run(Processes.taskid(args), repo, Map.of(), stdin, TIMEOUT);
    }
}
