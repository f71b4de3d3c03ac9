package dev.taskid.daemon;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.cli.LockHolder;
import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.FsyncShim;
import dev.taskid.testing.Processes;
import dev.taskid.testing.Processes.Result;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The daemon's life with real processes: one daemon per state directory (a second one fails
 * and steals nothing), a stale socket after kill -9, a clean SIGTERM, idempotency keys across a
 * restart and across the fallback, and who may talk to it (SO_PEERCRED, another uid).
 */
class DaemonLifecycleTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    /** Not the one on PATH: a developer's (pyenv under /root) is not executable by nobody. */
    private static final Path SYSTEM_PYTHON = Path.of("/usr/bin/python3");

    @TempDir
    Path tmp;

    /**
     * A second daemon on a served state directory refuses at once naming the first, rather
     * than waiting out the lock timeout (here 60 s) for a lock the first holds for its life.
     */
    @Test
    void aSecondDaemonRefusesAtOnceNamingTheFirstAndStealsNothing() throws Exception {
        Path state = repo("two");
        Files.writeString(state.resolve("config.json"), "{\"lockTimeoutMs\":60000}");
        try (DaemonProcess first = DaemonProcess.start(state)) {
            Path socket = state.resolve("daemon.sock");
            Object inode = Files.getAttribute(socket, "unix:ino");
            long started = System.nanoTime();
            try (DaemonProcess second = DaemonProcess.launch(state, Map.of(), List.of())) {
                int status = second.awaitExit();
                long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
                assertEquals(4, status, second.log());
                assertTrue(seconds < 45, "at once, not after the 60 s lock timeout: " + seconds + " s");
                assertTrue(
                        second.log().contains("already serves") && second.log().contains("pid " + first.pid()),
                        "names the running one: " + second.log());
            }
            assertEquals(inode, Files.getAttribute(socket, "unix:ino"), "the socket file is the first daemon's still");
            assertTrue(first.answers(), "the first daemon still serves");
        }
    }

    /**
     * A fallback writer holds the lock: a daemon that cannot get it in time exits non-zero
     * without binding; one that can waits, then reads the counters the writer committed (lock
     * first, load second), so nothing the writer handed out is handed out again.
     */
    @Test
    void aDaemonWaitsForAFallbackWriterAndLoadsWhatItCommitted() throws Exception {
        Path state = repo("held");
        Path socket = state.resolve("daemon.sock");
        Process holder = new ProcessBuilder(LockHolder.command(state))
                .directory(state.getParent().toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", out.readLine()); // bounded: the holder gives up on the lock after 60 s

            // taskid --lock-timeout 300 daemon: the launcher passes the option on to the daemon.
            try (DaemonProcess early = DaemonProcess.launch(state, List.of("--lock-timeout", "300"))) {
                assertNotEquals(0, early.awaitExit(), early.log());
                assertTrue(
                        early.log().contains("LOCK_TIMEOUT") && early.log().contains("pid " + holder.pid()),
                        "names the holder: " + early.log());
            }
            assertFalse(Files.exists(socket), "a daemon without the lock never binds");

            Files.writeString(state.resolve("config.json"), "{\"lockTimeoutMs\":60000}");
            try (DaemonProcess waiting = DaemonProcess.launch(state, Map.of(), List.of())) {
                await().atMost(TIMEOUT)
                        .until(() -> hasOpen(waiting.pid(), state.resolve("lock"))); // it waits for the lock
                holder.getOutputStream().write("reserve SEC 2\n".getBytes(StandardCharsets.UTF_8));
                holder.getOutputStream().close();
                assertEquals("SEC-1,SEC-2", out.readLine());
                await().atMost(TIMEOUT).until(() -> !waiting.process().isAlive() || waiting.answers());
                assertTrue(waiting.answers(), waiting.log());
                assertEquals(
                        List.of("SEC-3"), ids(taskid(state, "reserve", "SEC")), "the daemon loaded after the lock");
            }
        } finally {
            holder.destroyForcibly();
            holder.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /**
     * A stop while a persist is stalled (its temp file is a FIFO nobody reads: an open that
     * never returns, like a disk that does not answer): the daemon waits its stop time for the
     * state thread, then halts non-zero WITHOUT releasing the lock first, so no fallback writer
     * can get in while that write may still land. (Before: it released the lock after 30 s
     * whatever the state thread was doing, and exited 0.) Nothing unacknowledged is handed out.
     */
    @Test
    void aStopWithAPersistStillRunningHaltsWithoutReleasingTheLock() throws Exception {
        Path state = repo("stalled");
        // A disk that stops answering: the fsync shim holds the counters' temp file's fsync
        // while the trigger exists.
        FsyncShim shim = FsyncShim.compile(Files.createDirectories(tmp.resolve("shim")));
        Path trigger = tmp.resolve("stall");
        try (DaemonProcess daemon = DaemonProcess.start(
                state, shim.stall("counters\\.json\\..*tmp$", trigger), List.of("-Dtaskid.stopWaitSeconds=1"))) {
            assertEquals(List.of("SEC-1"), ids(taskid(state, "reserve", "SEC")));
            Files.writeString(trigger, "stall");
            java.util.concurrent.CompletableFuture<Result> stalled = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> taskid(state, "--no-fallback", "reserve", "SEC"));
            await().atMost(TIMEOUT).until(() -> shim.calls().stream().anyMatch(c -> c.endsWith(" stalled")));

            int status = daemon.stop();
            assertEquals(6, status, daemon.log());
            assertTrue(daemon.log().contains("halting without releasing the state lock"), daemon.log());
            assertFalse(daemon.log().contains("stopped"), "no orderly release after the halt: " + daemon.log());
            assertNotEquals(0, stalled.join().status(), "the stalled reservation was never acknowledged");
        } finally {
            Files.deleteIfExists(trigger);
        }
        assertEquals(
                List.of("SEC-2"),
                ids(taskid(state, "--lock-timeout", "200", "reserve", "SEC")),
                "the lock died with the process; nothing acknowledged is handed out again");
    }

    @Test
    void aStaleSocketLeftByKillNineIsReplacedAndSigtermCleansUp() throws Exception {
        Path state = repo("stale");
        Path socket = state.resolve("daemon.sock");
        try (DaemonProcess crashed = DaemonProcess.start(state)) {
            crashed.kill();
        }
        assertTrue(Files.exists(socket), "kill -9 leaves the socket file behind");
        Result fallback = taskid(state, "reserve", "SEC", "--verbose");
        assertEquals(0, fallback.status(), fallback::toString);
        assertTrue(fallback.stdout().contains("\"mode\":\"fallback\""), "a refused socket means fallback: " + fallback);

        DaemonProcess daemon = DaemonProcess.start(state);
        try (daemon) {
            Result via = taskid(state, "reserve", "SEC", "--verbose");
            assertTrue(
                    via.stdout().contains("\"mode\":\"daemon\"") && via.stdout().contains("SEC-2"), via::toString);
            assertEquals(0, daemon.stop(), daemon.log());
        }
        assertFalse(Files.exists(socket), "SIGTERM removes the socket");
        Result after = taskid(state, "--lock-timeout", "200", "reserve", "SEC", "--verbose");
        assertEquals(0, after.status(), "the lock was released: " + after);
        assertTrue(
                after.stdout().contains("SEC-3") && after.stdout().contains("\"mode\":\"fallback\""), after::toString);
    }

    /**
     * SIGTERM while a connection has many reservations in flight: every request the daemon took
     * is answered (whole lines, in order, no gap), exactly those are durable (the next ID after
     * the stop follows the last one answered), the exit is 0, and a new daemon has a new epoch.
     */
    @Test
    void sigtermAnswersWhatIsInFlightAndPersistsExactlyThat() throws Exception {
        Path state = repo("term");
        int n = 3_000;
        StringBuilder batch = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            batch.append("{\"id\":").append(i).append(",\"op\":\"reserve\",\"prefix\":\"SEC\"}\n");
        }
        Json json = new Json();
        List<Map<String, Object>> answers = new ArrayList<>();
        String firstEpoch;
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try (DaemonProcess daemon = DaemonProcess.start(state);
                SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            firstEpoch = epoch(daemon);
            channel.connect(UnixDomainSocketAddress.of(state.resolve("daemon.sock")));
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
            writer.submit(() -> {
                ByteBuffer b = ByteBuffer.wrap(batch.toString().getBytes(StandardCharsets.UTF_8));
                while (b.hasRemaining()) {
                    channel.write(b); // fails once the daemon has closed: the rest was never taken
                }
                return null;
            });
            String line = in.readLine();
            daemon.process().destroy(); // SIGTERM with the rest of the batch in flight
            while (line != null) {
                byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
                answers.add(json.readObject(bytes, 0, bytes.length)); // a cut-off line fails here
                line = readOrReset(in);
            }
            assertEquals(0, daemon.awaitExit(), daemon.log());
        } finally {
            writer.shutdownNow();
        }
        assertFalse(answers.isEmpty());
        for (int i = 0; i < answers.size(); i++) {
            Map<String, Object> a = answers.get(i);
            assertEquals(Boolean.TRUE, a.get("ok"), a::toString);
            assertEquals((long) i + 1, a.get("id"), "in request order: " + a);
            assertEquals(List.of("SEC-" + (i + 1)), a.get("ids"), "no gap: " + a);
        }
        assertFalse(Files.exists(state.resolve("daemon.sock")), "SIGTERM removes the socket");
        assertEquals(
                List.of("SEC-" + (answers.size() + 1)),
                ids(taskid(state, "--lock-timeout", "200", "reserve", "SEC")),
                "durable = answered (" + answers.size() + " of " + n + "), and the lock is free for the fallback");
        try (DaemonProcess again = DaemonProcess.start(state)) {
            assertNotEquals(firstEpoch, epoch(again), "every daemon start has a new epoch");
        }
    }

    /**
     * The next line; a reset counts as the end: closing a connection whose requests it did not
     * take resets it, after every answer written before has been delivered.
     */
    private static String readOrReset(BufferedReader in) throws java.io.IOException {
        try {
            return in.readLine();
        } catch (java.net.SocketException e) {
            return null;
        }
    }

    /** Whether process {@code pid} has {@code file} open (Linux /proc). */
    /** Whether process {@code pid} has {@code file} open (Linux /proc). */
    static boolean hasOpen(long pid, Path file) throws java.io.IOException {
        try (var fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
            return fds.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(file.toAbsolutePath());
                } catch (java.io.IOException | UnsupportedOperationException e) {
                    return false; // closed meanwhile
                }
            });
        }
    }

    private static String epoch(DaemonProcess daemon) {
        try (TaskIds client = TaskIds.open(StateDir.of(daemon.stateDir()), daemon.clientOptions())) {
            return client.daemon().orElseThrow().epoch();
        }
    }

    @Test
    void daemonStatusAndStopThroughTheCli() throws Exception {
        Path state = repo("cli");
        try (DaemonProcess daemon = DaemonProcess.start(state)) {
            Result status = taskid(state, "--json", "daemon", "status");
            assertEquals(0, status.status(), status::toString);
            assertTrue(status.stdout().contains("\"running\":true,\"pid\":" + daemon.pid()), status.stdout());
            Result stop = taskid(state, "daemon", "stop");
            assertEquals(0, stop.status(), stop::toString);
            assertFalse(daemon.process().isAlive(), "stop returns once the daemon has exited");
            assertEquals(0, daemon.awaitExit(), "a clean exit: " + daemon.log());
        }
        Result down = taskid(state, "daemon", "status");
        assertEquals(3, down.status(), down::toString);
        assertTrue(down.stderr().contains("no daemon is serving"), down::toString);
    }

    @Test
    void anIdempotencyKeyReplaysAcrossARestartAndAcrossTheFallback() throws Exception {
        Path state = repo("keys");
        List<String> first;
        try (DaemonProcess daemon = DaemonProcess.start(state)) {
            first = ids(taskid(state, "reserve", "SEC", "3", "--key", "retry-1"));
            assertEquals(List.of("SEC-1", "SEC-2", "SEC-3"), first);
            daemon.stop();
        }
        try (DaemonProcess again = DaemonProcess.start(state)) {
            assertEquals(first, ids(taskid(state, "reserve", "SEC", "3", "--key", "retry-1")), "after a restart");
            assertEquals(List.of("SEC-4"), ids(taskid(state, "reserve", "SEC")));
            again.stop();
        }
        assertEquals(first, ids(taskid(state, "reserve", "SEC", "3", "--key", "retry-1")), "through the file lock");
        Result reused = taskid(state, "--json", "reserve", "SEC", "2", "--key", "retry-1");
        assertEquals(3, reused.status(), reused::toString);
        assertTrue(reused.stderr().contains("KEY_REUSED"), reused::toString);
    }

    /**
     * A crash after a batch's key line reached keys.log, before its audit lines and its
     * counters.json rename: the daemon is killed while the fdatasync of the batch's counters.json
     * tmp file stalls (the key line is appended beside it, the rename and the audit lines come
     * after both). That batch is not in
     * counters.json, so the key's retry must not replay its IDs: nobody got them and the
     * counter does not cover them, so the next reservation would hand them out again.
     * (Without the generation check in KeyLog.load the retry replays SEC-2..4 and the next
     * reservation gets SEC-2.)
     */
    @Test
    void aKeyWhoseBatchDiedBeforeItsCountersRenameIsNeverReplayed() throws Exception {
        Path state = repo("keycrash");
        FsyncShim shim = FsyncShim.compile(Files.createDirectories(tmp.resolve("shim")));
        Path trigger = tmp.resolve("stall");
        try (DaemonProcess daemon =
                DaemonProcess.start(state, shim.stall("counters\\.json[^/]*\\.tmp$", trigger), List.of())) {
            assertEquals(List.of("SEC-1"), ids(taskid(state, "reserve", "SEC")));
            Files.writeString(trigger, "stall");
            java.util.concurrent.CompletableFuture<Result> stalled = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> taskid(state, "--no-fallback", "reserve", "SEC", "3", "--key", "crash-1"));
            await().atMost(TIMEOUT).until(() -> shim.calls().stream().anyMatch(c -> c.endsWith(" stalled")));
            await().atMost(TIMEOUT)
                    .until(() -> Files.readString(state.resolve("keys.log")).contains("crash-1")); // before the rename
            assertFalse(Files.readString(state.resolve("audit.log")).contains("crash-1"), "its audit line was not");
            daemon.kill();
            assertNotEquals(0, stalled.join().status(), "never acknowledged");
        } finally {
            Files.deleteIfExists(trigger);
        }
        List<String> retry = ids(taskid(state, "--lock-timeout", "5000", "reserve", "SEC", "3", "--key", "crash-1"));
        List<String> next = ids(taskid(state, "reserve", "SEC"));
        assertEquals(List.of("SEC-2", "SEC-3", "SEC-4"), retry);
        assertEquals(List.of("SEC-5"), next, "the retry's IDs are not handed out again");
        assertEquals(
                retry, ids(taskid(state, "reserve", "SEC", "3", "--key", "crash-1")), "the retry's own key replays");
    }

    /**
     * Another uid: the socket's modes stop it first; opened up, the daemon itself refuses it, on
     * either transport (NIO, which only tells the peer's user, used to let anyone in).
     */
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void anotherUidIsStoppedByModesThenByThePeerCheckUnlessAllowed(String transport) throws Exception {
        Assumptions.assumeTrue(
                Processes.onPath("setpriv").isPresent() && Files.isExecutable(SYSTEM_PYTHON),
                "skipped: needs setpriv (util-linux) and " + SYSTEM_PYTHON);
        Assumptions.assumeTrue(dev.taskid.state.Users.currentUid() == 0, "skipped: needs root to switch to nobody");
        Path open = Files.createDirectories(tmp.resolve("open"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path state = open.resolve(".taskid");
        Files.createDirectories(open.resolve(".git"));
        try (DaemonProcess daemon = DaemonProcess.start(state, Map.of(), List.of("-Dtaskid.transport=" + transport))) {
            assertTrue(daemon.log().contains(transport + " transport"), daemon.log());
            Path socket = state.resolve("daemon.sock");
            Result denied = asNobody(socket);
            assertEquals(1, denied.status(), denied::toString);
            assertTrue(
                    denied.stderr().contains("PermissionError"),
                    "0700 dir, 0600 socket: the kernel says no: " + denied);

            Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            Result forbidden = asNobody(socket);
            assertEquals(0, forbidden.status(), forbidden::toString);
            assertTrue(
                    forbidden.stdout().contains("\"code\":\"FORBIDDEN\"")
                            && (forbidden.stdout().contains("uid 65534")
                                    || forbidden.stdout().contains("user nobody")),
                    forbidden::toString);
            assertTrue(forbidden.stdout().trim().lines().count() == 1, "one line, then closed: " + forbidden);
            daemon.stop();
        }
        Files.writeString(state.resolve("config.json"), "{\"allowedUids\":[65534]}");
        try (DaemonProcess daemon = DaemonProcess.start(state, Map.of(), List.of("-Dtaskid.transport=" + transport))) {
            Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));
            Result allowed = asNobody(state.resolve("daemon.sock"));
            assertEquals(0, allowed.status(), allowed::toString);
            assertTrue(allowed.stdout().contains("\"ids\":[\"SEC-1\"]"), "an allowed uid is served: " + allowed);
        }
    }

    /** Anything but a stale socket at the socket path is named with the reason, and left alone. */
    @Test
    void aDirectoryAtTheSocketPathIsNamedAndLeftAlone() throws Exception {
        Path state = repo("sockdir");
        Path inner = Files.createDirectories(state.resolve("daemon.sock/keep"));
        try (DaemonProcess daemon = DaemonProcess.launch(state, Map.of(), List.of())) {
            assertNotEquals(0, daemon.awaitExit(), daemon.log());
            assertTrue(
                    daemon.log().contains(state.resolve("daemon.sock") + " is a directory, not a socket")
                            && daemon.log().contains("move it away"),
                    daemon.log());
        }
        assertTrue(Files.isDirectory(inner), "nothing was removed");
    }

    // ----------------------------------------------------------------- helpers

    private Path repo(String name) throws Exception {
        Path repo = Files.createDirectories(tmp.resolve(name));
        Files.createDirectories(repo.resolve(".git"));
        Path state = repo.resolve(".taskid");
        Files.createDirectories(state);
        return state;
    }

    private static Result taskid(Path state, String... args) {
        List<String> command = new java.util.ArrayList<>(Processes.taskid("--dir", state.toString()));
        command.addAll(List.of(args));
        return Processes.run(command, state.getParent(), Map.of(), TIMEOUT);
    }

    private static List<String> ids(Result r) {
        assertEquals(0, r.status(), r::toString);
        String list =
                r.stdout().substring(r.stdout().indexOf('[') + 1, r.stdout().indexOf(']'));
        return List.of(list.replace("\"", "").split(","));
    }

    /**
     * A python client run as nobody: sends one reserve, prints what comes back until the close
     * (it hangs up after the first line: Netty's NIO domain socket has no half-closure).
     */
    private static Result asNobody(Path socket) {
        String client = "import socket,sys\n"
                + "s=socket.socket(socket.AF_UNIX)\n"
                + "s.connect(sys.argv[1])\n"
                + "s.sendall(b'{\"op\":\"reserve\",\"prefix\":\"SEC\"}\\n')\n"
                + "f=s.makefile()\n"
                + "sys.stdout.write(f.readline())\n"
                + "s.shutdown(socket.SHUT_WR)\n"
                + "sys.stdout.write(f.read())\n";
        return Processes.run(
                List.of(
                        "setpriv",
                        "--reuid=65534",
                        "--regid=65534",
                        "--clear-groups",
                        SYSTEM_PYTHON.toString(),
                        "-c",
                        client,
                        socket.toString()),
                Path.of("/"),
                Map.of(),
                TIMEOUT);
    }
}
