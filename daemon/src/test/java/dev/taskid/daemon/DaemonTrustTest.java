package dev.taskid.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.state.Users;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.Processes;
import dev.taskid.testing.Processes.Result;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client trusts only a daemon of the expected user (issue 10 item 5), with a real other
 * uid (nobody, through setpriv): another user's socket directory stops daemon and client, a
 * fake daemon served by another user is refused before its answers are read (its IDs are
 * never used, nothing falls back behind it), and {@code daemon stop} signals only a pid that
 * is a taskid daemon of a trusted user.
 */
@Timeout(120)
class DaemonTrustTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** Not the one on PATH: a developer's (pyenv under /root) is not executable by nobody. */
    private static final Path SYSTEM_PYTHON = Path.of("/usr/bin/python3");

    private static final List<String> AS_NOBODY =
            List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups");
    /** Answers hello (with the pid given) and reserve (SEC-999) like a daemon would, on a socket it binds. */
    private static final String FAKE_DAEMON = String.join(
            "\n",
            "import json, socket, sys",
            "path, pid = sys.argv[1], int(sys.argv[2])",
            "s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(8)",
            "print('ready', flush=True)",
            "while True:",
            "    c, _ = s.accept(); f = c.makefile('rwb')",
            "    for line in f:",
            "        r = json.loads(line); op = r.get('op')",
            "        if op == 'hello':",
            "            a = {'ok': True, 'protocol': 1, 'version': '6.6.6', 'capabilities': [], 'pid': pid,"
                    + " 'stateDir': '/fake', 'epoch': 'e', 'mode': 'daemon'}",
            "        elif op == 'reserve':",
            "            a = {'ok': True, 'prefix': 'SEC', 'ids': ['SEC-999'], 'numbers': [999], 'previous': 998,"
                    + " 'counter': 999, 'next': 1000, 'reservedAt': '2026-01-01T00:00:00.000Z'}",
            "        else:",
            "            a = {'ok': False, 'error': {'code': 'BAD_REQUEST', 'message': 'fake', 'retry': False, 'details': {}}}",
            "        f.write((json.dumps(a) + '\\n').encode()); f.flush()",
            "    c.close()",
            "");

    @TempDir
    Path tmp;

    @BeforeEach
    void needsAnotherUid() throws Exception {
        Assumptions.assumeTrue(
                Processes.onPath("setpriv").isPresent() && Files.isExecutable(SYSTEM_PYTHON),
                "skipped: needs setpriv (util-linux) and " + SYSTEM_PYTHON);
        Assumptions.assumeTrue(Users.currentUid() == 0, "skipped: needs root to switch to nobody");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void anotherUsersRuntimeDirectoryStopsTheDaemonAndTheClient() throws Exception {
        Path xdg = Files.createDirectories(tmp.resolve("xdg"));
        Files.setPosixFilePermissions(xdg, PosixFilePermissions.fromString("rwxrwxrwx"));
        // Too long for sun_path: the socket goes to $XDG_RUNTIME_DIR/taskid/<hash>.sock.
        Path state = repo("r".repeat(110));
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", xdg.toString());
        Result mkdir = Processes.run(
                command(AS_NOBODY, "mkdir", "-m", "700", xdg.resolve("taskid").toString()), tmp, Map.of(), TIMEOUT);
        assertEquals(0, mkdir.status(), mkdir::toString);

        try (DaemonProcess daemon = DaemonProcess.launch(state, env, List.of())) {
            assertNotEquals(0, daemon.awaitExit(), daemon.log());
            assertTrue(
                    daemon.log().contains("FORBIDDEN") && daemon.log().contains("belongs to user nobody"),
                    "the daemon refuses another user's socket directory: " + daemon.log());
        }
        String counters = Files.readString(state.resolve("counters.json"));
        Result reserve = taskid(state, env, "reserve", "SEC");
        assertEquals(7, reserve.status(), reserve::toString);
        assertTrue(
                reserve.stderr().contains("FORBIDDEN") && reserve.stderr().contains("belongs to user nobody"),
                reserve::toString);
        assertEquals(counters, Files.readString(state.resolve("counters.json")), "nothing reserved behind it");
    }

    @Test
    void aFakeDaemonOfAnotherUserIsRefusedAndItsIdsAreNeverUsed() throws Exception {
        Path open = Files.createDirectories(tmp.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path state = repo("fake");
        Process victim = new ProcessBuilder("sleep", "300").start();
        Process fake = fakeDaemon(AS_NOBODY, open.resolve("fake.sock"), victim.pid());
        try {
            // Bound by nobody, then put where the daemon's socket goes (a root-owned 0700 state
            // dir): the directory checks pass, only SO_PEERCRED can tell.
            Files.move(open.resolve("fake.sock"), state.resolve("daemon.sock"));
            Result reserve = taskid(state, Map.of(), "reserve", "SEC");
            assertEquals(7, reserve.status(), reserve::toString);
            assertTrue(
                    reserve.stderr().contains("FORBIDDEN") && reserve.stderr().contains("runs as user nobody"),
                    reserve::toString);
            assertFalse(reserve.stdout().contains("SEC-999"), "the fake daemon's IDs are never used: " + reserve);
            assertFalse(Files.exists(state.resolve("counters.json")), "and the client did not fall back behind it");

            Result stop = taskid(state, Map.of(), "daemon", "stop");
            assertEquals(7, stop.status(), stop::toString);
            assertTrue(victim.isAlive() && fake.isAlive(), "nothing was signalled");
        } finally {
            fake.destroyForcibly();
            victim.destroyForcibly();
        }
    }

    @Test
    void daemonStopSignalsOnlyAPidThatIsATaskidDaemon() throws Exception {
        Path state = repo("stop");
        Process victim = new ProcessBuilder("sleep", "300").start();
        // Our own user, so the peer check passes: only the pid check stands between it and the victim.
        Process fake = fakeDaemon(List.of(), state.resolve("daemon.sock"), victim.pid());
        try {
            Result stop = taskid(state, Map.of(), "daemon", "stop");
            assertEquals(7, stop.status(), stop::toString);
            assertTrue(
                    stop.stderr().contains("FORBIDDEN") && stop.stderr().contains("not a taskid daemon"),
                    stop::toString);
            assertTrue(victim.isAlive(), "the pid the fake daemon named was not signalled");
        } finally {
            fake.destroyForcibly();
            victim.destroyForcibly();
        }
        try (DaemonProcess real = DaemonProcess.start(state)) {
            Result stop = taskid(state, Map.of(), "daemon", "stop");
            assertEquals(0, stop.status(), stop::toString);
            assertEquals(0, real.awaitExit(), "the real daemon was stopped cleanly: " + real.log());
        }
    }

    // ----------------------------------------------------------------- helpers

    private Path repo(String name) throws Exception {
        Path repo = Files.createDirectories(tmp.resolve(name));
        Files.createDirectories(repo.resolve(".git"));
        Path state = repo.resolve(".taskid");
        Files.createDirectory(
                state, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return state;
    }

    private static List<String> command(List<String> prefix, String... words) {
        List<String> c = new ArrayList<>(prefix);
        c.addAll(List.of(words));
        return c;
    }

    /** The python fake daemon, started (by {@code prefix}, e.g. as nobody) and listening. */
    private static Process fakeDaemon(List<String> prefix, Path socket, long helloPid) throws Exception {
        Process p = new ProcessBuilder(command(
                        prefix,
                        SYSTEM_PYTHON.toString(),
                        "-c",
                        FAKE_DAEMON,
                        socket.toString(),
                        Long.toString(helloPid)))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String first = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (!"ready".equals(first)) {
            p.destroyForcibly();
            throw new AssertionError("the fake daemon did not start: " + first);
        }
        return p;
    }

    private static Result taskid(Path state, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(Processes.taskid("--dir", state.toString()));
        command.addAll(List.of(args));
        return Processes.run(command, state.getParent(), env, TIMEOUT);
    }
}
