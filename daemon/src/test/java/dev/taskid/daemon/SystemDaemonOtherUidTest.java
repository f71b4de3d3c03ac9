package dev.taskid.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.state.Users;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.JsonText;
import dev.taskid.testing.Processes;
import dev.taskid.testing.Processes.Result;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The system-wide daemon and a client of another uid, end to end (issue 14): a daemon run by
 * root on a state directory with the mode the shipped system unit gives it
 * ({@code StateDirectoryMode=} in taskid.service, 0711), {@code allowedUids} listing nobody, and
 * real {@code taskid} processes run as nobody (setpriv) that reserve IDs through the daemon
 * without reading the directory's files; {@code taskid mcp} as nobody serves its IDs too. Through a
 * directory nobody cannot search (0700), the client's error names the path and says
 * "permission denied", with a stable code, and nothing is reserved.
 */
@Timeout(180)
class SystemDaemonOtherUidTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final List<String> AS_NOBODY =
            List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups");
    private static final Pattern STATE_MODE = Pattern.compile("(?m)^StateDirectoryMode=([0-7]{4})$");

    @TempDir
    Path tmp;

    @Test
    void anotherUidReservesThroughTheSystemDaemonAndIsToldWhyWhenTheDirectoryIsClosed() throws Exception {
        Assumptions.assumeTrue(
                Users.currentUid() == 0, "skipped: needs root to run a daemon as root and a client as nobody");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> cli = cliReadableByNobody();

        Path state = Files.createDirectory(tmp.resolve("taskid"));
        Set<PosixFilePermission> unitMode = shippedStateDirectoryMode();
        assertEquals("rwx--x--x", PosixFilePermissions.toString(unitMode), "the system unit's StateDirectoryMode");
        Files.setPosixFilePermissions(state, unitMode);
        // The admin's config, written under the unit's UMask=0077: nobody cannot read it.
        Files.writeString(state.resolve("config.json"), "{\"allowedUids\":[65534]}");
        Files.setPosixFilePermissions(state.resolve("config.json"), PosixFilePermissions.fromString("rw-------"));

        try (DaemonProcess daemon = DaemonProcess.start(state, Map.of(), List.of())) {
            Result first = asNobody(
                    cli, null, "--dir", state.toString(), "--json", "reserve", "SEC", "2", "--purpose", "other uid");
            assertEquals(0, first.status(), first::toString);
            assertEquals(
                    List.of("SEC-1", "SEC-2"), JsonText.object(first.stdout()).get("ids"));
            Result second = asNobody(cli, null, "--dir", state.toString(), "--json", "reserve", "SEC", "1");
            assertEquals(0, second.status(), second::toString);
            assertEquals(
                    List.of("SEC-3"),
                    JsonText.object(second.stdout()).get("ids"),
                    "unique across the other uid's calls");

            // taskid mcp as nobody: reservations go through the daemon; the audit log is the owner's.
            String session = String.join(
                    "\n",
                    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
                            + "\"capabilities\":{},\"clientInfo\":{\"name\":\"nobody-agent\",\"version\":\"1\"}}}",
                    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"reserve_task_ids\","
                            + "\"arguments\":{\"prefix\":\"SEC\",\"key\":\"nobody-1\"}}}",
                    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"lookup_task_ids\","
                            + "\"arguments\":{\"queries\":[\"SEC-1\"]}}}",
                    "");
            Result mcp = asNobody(cli, session, "--dir", state.toString(), "mcp");
            assertEquals(0, mcp.status(), mcp::toString);
            List<String> frames = mcp.stdout().lines().toList();
            assertEquals(3, frames.size(), mcp::toString);
            Map<String, Object> reserved =
                    map(map(JsonText.object(frames.get(1)).get("result")).get("structuredContent"));
            assertEquals(List.of("SEC-4"), reserved.get("ids"), mcp::toString);
            assertEquals("daemon", reserved.get("mode"));
            Map<String, Object> lookup = map(JsonText.object(frames.get(2)).get("result"));
            assertEquals(true, lookup.get("isError"), mcp::toString);
            String lookupError = (String) ((Map<?, ?>) ((List<?>) lookup.get("content")).get(0)).get("text");
            assertTrue(
                    lookupError.contains("SYSTEM_ERROR")
                            && lookupError.contains("permission denied")
                            && lookupError.contains(state.toString()),
                    lookupError);

            // Every reservation was the daemon's, made for uid 65534: nobody never wrote the files.
            List<Map<String, Object>> audit = JsonText.auditLines(state).stream()
                    .filter(l -> "reserve".equals(l.get("op")))
                    .toList();
            assertEquals(3, audit.size(), audit::toString);
            for (Map<String, Object> line : audit) {
                assertEquals(List.of(65534L, "daemon"), List.of(line.get("uid"), line.get("mode")), line::toString);
            }
            assertEquals("other uid", audit.get(0).get("purpose"));

            // A directory nobody cannot search: the error says where and why; nothing is reserved.
            Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
            Result closed = asNobody(cli, null, "--dir", state.toString(), "--json", "reserve", "SEC", "1");
            assertEquals(6, closed.status(), closed::toString);
            Map<String, Object> error = map(JsonText.object(closed.stderr()
                            .lines()
                            .filter(l -> l.startsWith("{"))
                            .reduce((a, b) -> b)
                            .orElseThrow(() -> new AssertionError("no JSON error on stderr: " + closed)))
                    .get("error"));
            assertEquals("SYSTEM_ERROR", error.get("code"), closed::toString);
            String message = (String) error.get("message");
            assertTrue(
                    message.contains(state.resolve("daemon.sock").toString())
                            && message.contains("permission denied")
                            && message.contains("0711"),
                    message);
            Result text = asNobody(cli, null, "--dir", state.toString(), "reserve", "SEC", "1");
            assertNotEquals(0, text.status());
            assertTrue(
                    text.stderr().contains("SYSTEM_ERROR") && text.stderr().contains("permission denied"),
                    text::toString);

            Files.setPosixFilePermissions(state, unitMode);
            Result after = asNobody(cli, null, "--dir", state.toString(), "--json", "reserve", "SEC", "1");
            assertEquals(
                    List.of("SEC-5"),
                    JsonText.object(after.stdout()).get("ids"),
                    "the refused calls reserved nothing: " + after);
        }
    }

    /** The mode the shipped system unit gives /var/lib/taskid (StateDirectoryMode=). */
    private static Set<PosixFilePermission> shippedStateDirectoryMode() throws IOException {
        Path unit = Path.of(System.getProperty("basedir", "."))
                .toAbsolutePath()
                .getParent()
                .resolve("systemd/src/main/units/taskid.service");
        Matcher m = STATE_MODE.matcher(Files.readString(unit));
        assertTrue(m.find(), "no StateDirectoryMode= in " + unit);
        int mode = Integer.parseInt(m.group(1), 8);
        Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE: 0400 .. 0001
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (0400 >> i)) != 0) {
                out.add(bits[i]);
            }
        }
        return out;
    }

    /**
     * The taskid command with its class path copied where nobody can read it (the build's own
     * lies under root's 0700 home: ~/.m2).
     */
    private List<String> cliReadableByNobody() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("cp"));
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String entry : Processes.cliClassPath().split(File.pathSeparator)) {
            Path from = Path.of(entry);
            Path to = dir.resolve(n++ + "-" + from.getFileName());
            try (Stream<Path> files = Files.walk(from)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Path target = to.resolve(from.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            entries.add(to.toString());
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.setPosixFilePermissions(
                        f, PosixFilePermissions.fromString(Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return List.of(
                Processes.java(),
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-cp",
                String.join(File.pathSeparator, entries),
                "dev.taskid.cli.Main");
    }

    private static Result asNobody(List<String> cli, String stdin, String... args) {
        List<String> command = new ArrayList<>(AS_NOBODY);
        command.addAll(cli);
        command.addAll(List.of(args));
        byte[] in = stdin == null ? new byte[0] : stdin.getBytes(StandardCharsets.UTF_8);
        return Processes.run(command, Path.of("/"), Map.of("HOME", "/nonexistent"), in, TIMEOUT);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }
}
