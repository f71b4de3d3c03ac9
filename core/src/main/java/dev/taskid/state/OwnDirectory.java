package dev.taskid.state;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

/**
 * The check made before a state directory is used: it is a real directory (lstat: not a
 * symbolic link, which would put the state wherever its target is), owned by this process's
 * user, and writable by nobody else. Another user's directory is refused; our own that others
 * may write to (a careless chmod, a umask of 0) loses those write bits, which only ever takes
 * rights away. Read and search bits are left as the owner set them: a system-wide daemon's
 * 0711 directory and a 0755 one opened for {@code allowedUids} must let other users reach the
 * socket inside, and they cannot change anything there.
 */
public final class OwnDirectory {
    private static final Set<PosixFilePermission> OTHERS_WRITE =
            Set.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);

    private OwnDirectory() {}

    /** Checks {@code dir} as above; FORBIDDEN naming the path when it is not ours. */
    public static void check(Path dir, int uid) {
        PosixFileAttributes attributes;
        try {
            attributes = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException e) {
            return; // no POSIX owner and modes to check on this file system
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "cannot check the state directory " + dir + ": " + e.getMessage(),
                    Map.of("file", dir.toString()),
                    e);
        }
        if (attributes.isSymbolicLink() || !attributes.isDirectory()) {
            throw forbidden(
                    dir,
                    "is " + (attributes.isSymbolicLink() ? "a symbolic link" : "not a directory")
                            + "; taskid uses only a real directory for its state, never through a link. Replace it with the "
                            + "directory itself (or pass --dir with the real path)");
        }
        int owner;
        try {
            owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return;
        }
        if (owner != uid) {
            throw forbidden(
                    dir,
                    "belongs to uid " + owner + ", not to you (uid " + uid + "); another user could "
                            + "change the counters there. Use a state directory of your own (--dir), or run taskid as its owner");
        }
        Set<PosixFilePermission> permissions = attributes.permissions();
        if (permissions.stream().anyMatch(OTHERS_WRITE::contains)) {
            Set<PosixFilePermission> closed = java.util.EnumSet.copyOf(permissions);
            closed.removeAll(OTHERS_WRITE);
            try {
                Files.setPosixFilePermissions(dir, closed);
            } catch (IOException e) {
                throw forbidden(
                        dir,
                        "is writable by other users (" + PosixFilePermissions.toString(permissions)
                                + ") and could not be closed: " + e.getMessage() + "; run chmod go-w " + dir);
            }
        }
    }

    private static TaskIdException forbidden(Path dir, String why) {
        return new TaskIdException(
                ErrorCode.FORBIDDEN,
                "the state directory " + dir + " " + why + ".",
                Map.of("file", dir.toString()),
                null);
    }
}
