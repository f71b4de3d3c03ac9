package dev.taskid.shim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.json.Json;
import dev.taskid.testing.Processes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shims as a team meets them: the claude scripts are committed files, the same bytes
 * whoever installs them and wherever taskid lives; the opencode shim takes over seed 001's
 * numbering exactly (a cycle of 1000, its active projects) before anything is handed out.
 * Real CLI processes.
 */
class ShimSeedTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    @Test
    void claudeScriptsAreTheSameBytesForEveryInstallerAndFindTaskidAtRunTime() throws Exception {
        Path a = repo("a");
        Path b = repo("b");
        assertEquals(0, install(a, launcher("alice")).status());
        assertEquals(0, install(b, launcher("bob")).status());
        for (String script : List.of(Shims.RESERVE_SCRIPT, Shims.INIT_SCRIPT)) {
            byte[] mine = Files.readAllBytes(a.resolve(script));
            assertArrayEquals(mine, Files.readAllBytes(b.resolve(script)), script + " churns between developers");
            String text = new String(mine, StandardCharsets.UTF_8);
            assertFalse(text.contains(tmp.toString()) || text.contains("alice"), "no installer's path in " + script);
        }
        String node = Processes.onPath("node").orElse(null);
        Assumptions.assumeTrue(node != null, "skipped: node is not on PATH");
        // No daemon, no TASKID_BIN: the script finds taskid on PATH when it runs.
        Path bin = tmp.resolve("path-bin");
        Processes.taskidScript(bin);
        Processes.Result r = Processes.run(
                List.of(node, a.resolve(Shims.RESERVE_SCRIPT).toString(), "SEC", "2"),
                a,
                Map.of("PATH", bin + ":" + System.getenv("PATH")),
                TIMEOUT);
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.stdout().startsWith("{\"ids\":[\"SEC-1\",\"SEC-2\"]"), r.toString());
    }

    @Test
    void opencodeShimWrapsLikeSeed001WithItsActiveNumbers() throws Exception {
        Path repo = repo("seed001");
        Files.createDirectories(repo.resolve(".opencode/specs"));
        Files.writeString(
                repo.resolve(Shims.OPENCODE_STATE),
                "{\"next_project_number\":997,\"active_projects\":"
                        + "[3,{\"number\":42,\"status\":\"active\"},{\"number\":7,\"status\":\"archived\"}]}");
        Processes.Result install = taskid(repo, Map.of(), "shim", "install", "opencode", "--prefix", "DEV");
        assertEquals(0, install.status(), install.toString());

        Map<String, Object> r = object(taskid(repo, Map.of(), "reserve", "DEV", "5", "--format", "seed001")
                .stdout());
        assertEquals(List.of(997L, 998L, 999L, 0L, 1L), r.get("allocated_numbers"), "seed 001 wraps at 1000: " + r);
        assertEquals(2L, r.get("new_next_number"));
        Processes.Result conflict = taskid(repo, Map.of(), "reserve", "DEV", "2", "--format", "seed001");
        assertEquals(3, conflict.status(), "3 is the seed's active project: " + conflict);
        assertTrue(conflict.stdout().contains("NUMBER_CONFLICT"), conflict.toString());
        Processes.Result list = taskid(repo, Map.of(), "--json", "archive", "DEV");
        assertEquals(
                List.of(0L, 1L, 3L, 42L, 997L, 998L, 999L),
                object(list.stdout()).get("active"),
                list.toString());
    }

    private Path repo(String name) throws Exception {
        Path repo = Files.createDirectories(tmp.resolve(name));
        Files.createDirectories(repo.resolve(".git"));
        return repo;
    }

    private Path launcher(String who) throws Exception {
        Path l = Files.createDirectories(tmp.resolve(who + "/bin")).resolve("taskid");
        Files.writeString(l, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(l, PosixFilePermissions.fromString("rwxr-xr-x"));
        return l;
    }

    private Processes.Result install(Path repo, Path launcher) {
        return taskid(repo, Map.of("TASKID_LAUNCHER", launcher.toString()), "shim", "install", "claude");
    }

    private static Processes.Result taskid(Path repo, Map<String, String> env, String... args) {
        return Processes.run(Processes.taskid(args), repo, env, TIMEOUT);
    }

    private static Map<String, Object> object(String line) throws Exception {
        byte[] bytes = line.trim().getBytes(StandardCharsets.UTF_8);
        return new Json().readObject(bytes, 0, bytes.length);
    }
}
