package dev.taskid.state;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The directory that holds the daemon's socket, checked the same way by the daemon before it
 * binds and by the client before it connects: whoever controls that directory can put a socket
 * of their own there. Read with lstat: a symlink is never followed.
 *
 * <p>Two kinds: the per-user runtime directory ({@code /tmp/taskid-<uid>} or
 * {@code $XDG_RUNTIME_DIR/taskid}), which must be exactly 0700 and owned by a trusted user, and
 * the state directory itself, which must be owned by a trusted user and writable by nobody else
 * (it may be opened up for reading, e.g. 0755 for {@code allowedUids}).
 */
public final class SocketDir {
    private static final Set<PosixFilePermission> OTHERS_WRITE =
            EnumSet.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);

    private SocketDir() {}

    /** True when {@code socket} is in a runtime directory of its own rather than in the state directory. */
    public static boolean inRuntimeDir(StateDir dir, Path socket) {
        return !dir.dir().equals(socket.getParent());
    }

    /**
     * Checks the socket's directory. Returns false when it does not exist (no daemon can be
     * there); throws FORBIDDEN naming the problem and the remedy when it is not trustworthy.
     */
    public static boolean check(Path directory, boolean runtimeDir, Set<UserPrincipal> owners) {
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(directory, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException | UnsupportedOperationException e) {
            throw forbidden(directory, "cannot be checked (" + e.getMessage() + ")", "");
        }
        if (a.isSymbolicLink() || !a.isDirectory()) {
            throw forbidden(
                    directory,
                    a.isSymbolicLink() ? "is a symbolic link" : "is not a directory",
                    "remove it; taskid makes it again");
        }
        if (!owners.contains(a.owner())) {
            throw forbidden(
                    directory,
                    "belongs to user " + a.owner().getName() + ", not to " + names(owners)
                            + ": another user may have made it to serve a daemon of their own",
                    "remove it (as root if need be) and start the daemon again");
        }
        Set<PosixFilePermission> perms = a.permissions();
        boolean bad = runtimeDir
                ? !perms.equals(EnumSet.of(
                        PosixFilePermission.OWNER_READ,
                        PosixFilePermission.OWNER_WRITE,
                        PosixFilePermission.OWNER_EXECUTE))
                : !Collections.disjoint(perms, OTHERS_WRITE); // no lambda: on every client call
        if (bad) {
            String mode = java.nio.file.attribute.PosixFilePermissions.toString(perms);
            throw forbidden(
                    directory,
                    "has mode " + mode + (runtimeDir ? ", not rwx------" : ": others may write in it"),
                    runtimeDir ? "chmod 700 " + directory : "chmod go-w " + directory);
        }
        return true;
    }

    private static String names(Set<UserPrincipal> owners) {
        return owners.stream()
                .map(UserPrincipal::getName)
                .sorted()
                .distinct()
                .toList()
                .toString();
    }

    private static TaskIdException forbidden(Path directory, String problem, String remedy) {
        return new TaskIdException(
                ErrorCode.FORBIDDEN,
                "the daemon socket directory " + directory + " " + problem + (remedy.isEmpty() ? "" : "; " + remedy),
                Map.of("directory", directory.toString()),
                null);
    }
}
