package dev.taskid.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.allocator.Ledger;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Symbolic links in or at the state directory are never followed: a link planted at a state
 * file's name makes taskid refuse (naming it) or replace the link, never write its target; the
 * directory must be a real one of ours, and is closed to 0700.
 */
class StateSymlinkTest {
    private static final AuditEntry.Requester BY = new AuditEntry.Requester(1, 0, AuditLog.FALLBACK, 0);
    private final Json json = new Json();

    @TempDir
    Path tmp;

    private Path victim() throws Exception {
        Path victim = tmp.resolve("victim.txt");
        Files.writeString(victim, "precious\n");
        return victim;
    }

    private StateStore open(Path state) {
        return StateStore.open(StateDir.of(state), json, Clock.systemUTC());
    }

    @Test
    void anAuditLogLinkIsRefusedAndItsTargetUntouched() throws Exception {
        Path state = tmp.resolve("state");
        Path victim = victim();
        try (StateStore store = open(state)) {
            Ledger ledger = store.load(Config.defaults()).ledger();
            Files.deleteIfExists(state.resolve("audit.log"));
            Files.createSymbolicLink(state.resolve("audit.log"), victim);
            ledger.setCounter("SEC", 3);
            TaskIdException e = assertThrows(
                    TaskIdException.class,
                    () -> store.commit(
                            ledger,
                            List.of(new AuditEntry(
                                    Instant.now(), "set", "SEC", null, null, 0, 3, null, null, null, BY))));
            assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
            assertTrue(e.getMessage().contains(state.resolve("audit.log") + " is a symbolic link"), e.getMessage());
        }
        assertEquals("precious\n", Files.readString(victim));
    }

    @Test
    void aLockLinkIsRefusedAndItsTargetNeverCreated() throws Exception {
        Path state = tmp.resolve("state");
        Files.createDirectories(state);
        Path target = tmp.resolve("elsewhere-lock");
        Files.createSymbolicLink(state.resolve("lock"), target);
        TaskIdException e = assertThrows(TaskIdException.class, () -> open(state));
        assertTrue(e.getMessage().contains("is a symbolic link"), e.getMessage());
        assertFalse(Files.exists(target), "nothing created through the link");
    }

    @Test
    void linksAtTemporaryNamesAreReplacedNotWrittenThrough() throws Exception {
        Path state = tmp.resolve("state");
        Path victim = victim();
        try (StateStore store = open(state)) {
            Ledger ledger = store.load(Config.defaults()).ledger();
            Files.createSymbolicLink(DurableFiles.tmpFor(store.file().path()), victim);
            Files.createSymbolicLink(DurableFiles.tmpFor(store.file().previous()), victim);
            // and at the fixed names older versions used
            Files.createSymbolicLink(state.resolve("counters.json.tmp"), victim);
            Files.createSymbolicLink(state.resolve("counters.json.prev.tmp"), victim);
            ledger.setCounter("SEC", 3);
            store.commit(ledger, List.of());
            store.file().backup(ledger);
            assertEquals(3L, store.file().read().orElseThrow().counter("SEC"));
        }
        assertEquals("precious\n", Files.readString(victim));
        assertFalse(Files.isSymbolicLink(state.resolve("counters.json")));
    }

    @Test
    void theStateDirectoryMustBeARealDirectoryOfOurs() throws Exception {
        Path real = tmp.resolve("real");
        Files.createDirectories(real);
        Path link = tmp.resolve("link");
        Files.createSymbolicLink(link, real);
        TaskIdException e = assertThrows(TaskIdException.class, () -> open(link));
        assertEquals(ErrorCode.FORBIDDEN, e.code());
        assertTrue(e.getMessage().contains(link + " is a symbolic link"), e.getMessage());

        Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rwxrwxrwx"));
        open(real).close();
        assertEquals(
                "rwxr-xr-x",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(real)),
                "closed to others' writes; reading and searching (allowedUids, a system daemon's 0711) stay");
        Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rwx--x--x"));
        open(real).close();
        assertEquals("rwx--x--x", PosixFilePermissions.toString(Files.getPosixFilePermissions(real)), "left as it was");

        if (Users.currentUid() == 0) { // root can give it away: another user's directory is refused
            Files.setAttribute(real, "unix:uid", 65534);
            TaskIdException other = assertThrows(TaskIdException.class, () -> open(real));
            assertEquals(ErrorCode.FORBIDDEN, other.code());
            assertTrue(other.getMessage().contains("belongs to uid 65534"), other.getMessage());
        }
    }
}
