package dev.taskid.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import dev.taskid.state.StateFile;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.Processes;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A persist that really fails: the daemon runs in its own mount namespace with its state dir
 * on a 64 KiB tmpfs, which the test fills (ENOSPC) and then makes read-only (EROFS) through
 * {@code /proc/PID/root} and {@code nsenter}. Reservations are refused with SYSTEM_ERROR and retry advice (on the
 * full disk once what the daemon's files already hold is used up), reads
 * go on, nothing is lost, and once the disk recovers the numbers go on with no gap.
 */
class PersistFailureTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void fullThenReadOnlyDiskRefusesReservationsAndRecoversWithoutAGap(@TempDir Path tmp) throws IOException {
        Assumptions.assumeTrue(canMountTmpfs(tmp), "skipped: needs root and unshare -m to mount a tmpfs");
        // A state dir too long for .taskid/daemon.sock: the socket goes under XDG_RUNTIME_DIR,
        // outside the tmpfs that only the daemon's namespace sees.
        Path state = tmp.resolve("state-" + "x".repeat(100));
        Files.createDirectories(state);
        Path runtime = Files.createDirectories(tmp.resolve("run"));
        try (DaemonProcess daemon = DaemonProcess.start(
                        state,
                        Map.of("XDG_RUNTIME_DIR", runtime.toString()),
                        List.of(),
                        command -> onOwnTmpfs(state, command));
                TaskIds client = TaskIds.open(StateDir.of(state), daemon.clientOptions())) {
            assertTrue(client.socket().startsWith(runtime), "socket " + client.socket());
            Path seen = Path.of("/proc/" + daemon.pid() + "/root" + state); // the daemon's view
            List<Long> onDisk = new ArrayList<>();
            assertEquals(
                    List.of("SEC-1", "SEC-2", "SEC-3"),
                    client.reserve("SEC", 3, "before").ids());
            onDisk.add(counter(seen));

            Path filler = seen.resolve("filler");
            fill(filler);
            // The daemon rewrites its counters.json files in place (TmpSlots) and appends to
            // audit.log's last page: some reservations may still fit in what it already has (a
            // slot whose file must be made anew does not). Each one answered is the next number;
            // once audit.log cannot grow, every one is refused.
            long issued = 3;
            int refused = 0;
            int inARow = 0;
            for (int i = 0; i < 100 && inARow < 3; i++) {
                Response r = client.call(reserve()).response();
                if (r instanceof Response.Reserved ok) {
                    assertEquals(List.of("SEC-" + (issued + 1)), ok.ids(), "no gap, nothing twice");
                    issued++;
                    inARow = 0;
                } else {
                    assertRefused(r);
                    refused++;
                    inARow++;
                }
            }
            assertEquals(3, inARow, "a full disk ends in refusals");
            assertReadsAnswer(client, issued);
            assertTrue(daemon.process().isAlive());
            onDisk.add(counter(seen));

            Files.delete(filler);
            assertEquals(
                    List.of("SEC-" + (issued + 1)),
                    client.reserve("SEC", 1, "after the disk was freed").ids());
            assertEquals(
                    List.of("SEC-" + (issued + 2), "SEC-" + (issued + 3)),
                    client.reserve("SEC", 2, "after").ids());
            onDisk.add(counter(seen));

            readOnly(daemon.pid(), state, true);
            assertRefused(client.call(reserve()).response());
            assertRefused(client.call(reserve()).response());
            assertReadsAnswer(client, issued + 3);
            onDisk.add(counter(seen));
            readOnly(daemon.pid(), state, false);
            assertEquals(
                    List.of("SEC-" + (issued + 4)),
                    client.reserve("SEC", 1, "after the remount").ids());
            onDisk.add(counter(seen));

            assertEquals(
                    List.of(3L, issued, issued + 3, issued + 3, issued + 4),
                    onDisk,
                    "counters.json after each step: never backwards, never ahead");
            Map<String, Object> stats =
                    ((Response.Stats) client.call(new Request.Stats(null)).response()).values();
            assertEquals(refused + 2L, ((Number) stats.get("persistFailures")).longValue(), "stats: " + stats);
            assertEquals(0, daemon.stop(), daemon.log());
        }
    }

    private static Request reserve() {
        return new Request.Reserve(null, "SEC", 1, "while the disk fails", null, null);
    }

    private static void assertRefused(Response r) {
        Response.Failure f = assertInstanceOf(Response.Failure.class, r);
        assertEquals(ErrorCode.SYSTEM_ERROR, f.code(), f.message());
        assertTrue(f.retry(), "retry advice: " + f);
    }

    /** peek and stats are answered from memory, at the last durable counter. */
    private static void assertReadsAnswer(TaskIds client, long counter) {
        Response.Counters peek = assertInstanceOf(
                Response.Counters.class,
                client.call(new Request.Peek(null, "SEC")).response());
        assertEquals(counter, peek.counters().get("SEC"));
        assertInstanceOf(
                Response.Stats.class, client.call(new Request.Stats(null)).response());
    }

    /** Writes to {@code file} until the tmpfs is full; fails if it is bigger than 64 KiB. */
    private static void fill(Path file) throws IOException {
        byte[] block = new byte[4096];
        long written = 0;
        try (OutputStream out = Files.newOutputStream(file)) {
            while (written <= 64 * 1024) {
                out.write(block);
                out.flush();
                written += block.length;
            }
        } catch (IOException expected) {
            return; // ENOSPC: full
        }
        throw new AssertionError("wrote " + written + " bytes: the state dir is not on a 64 KiB tmpfs");
    }

    /** {@code unshare -m sh -c 'mount a tmpfs on STATE && exec DAEMON'}: the daemon keeps the shell's pid. */
    private static List<String> onOwnTmpfs(Path state, List<String> command) {
        List<String> wrapped = new ArrayList<>(List.of(
                "unshare",
                "-m",
                "sh",
                "-c",
                "mount -t tmpfs -o size=64k,mode=0700 tmpfs \"$0\" && exec \"$@\"",
                state.toString()));
        wrapped.addAll(command);
        return wrapped;
    }

    /**
     * Makes the state dir read-only for new opens (a read-only bind mount over it, in the
     * daemon's namespace) or writable again (that bind mount removed). A plain
     * {@code remount,ro} is refused while the daemon holds its lock file open for writing.
     */
    private static void readOnly(long pid, Path state, boolean readOnly) {
        String script = readOnly ? "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\"" : "umount \"$0\"";
        Processes.Result r = Processes.run(
                List.of("nsenter", "-t", Long.toString(pid), "-m", "sh", "-c", script, state.toString()),
                state.getParent(),
                Map.of(),
                TIMEOUT);
        assertEquals(0, r.status(), r.toString());
    }

    private static long counter(Path state) {
        return new StateFile(state.resolve("counters.json"), new Json(), Clock.systemUTC())
                .read()
                .orElseThrow()
                .counter("SEC");
    }

    private static boolean canMountTmpfs(Path tmp) throws IOException {
        Path probe = Files.createDirectories(tmp.resolve("probe"));
        try {
            return Processes.run(
                                    List.of(
                                            "unshare",
                                            "-m",
                                            "mount",
                                            "-t",
                                            "tmpfs",
                                            "-o",
                                            "size=4k",
                                            "tmpfs",
                                            probe.toString()),
                                    tmp,
                                    Map.of(),
                                    TIMEOUT)
                            .status()
                    == 0;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
