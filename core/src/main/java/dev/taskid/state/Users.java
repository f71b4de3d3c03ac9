package dev.taskid.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;

/** The current process's user id, without native code. */
public final class Users {
    private Users() {}

    /** The uid that owns this process (Linux: the owner of /proc/self; else a fresh temp file). */
    public static int currentUid() {
        return (Integer) attribute("unix:uid");
    }

    /** The user that owns this process, comparable with file owners and SO_PEERCRED principals. */
    public static UserPrincipal currentUser() {
        return (UserPrincipal) attribute("posix:owner");
    }

    private static Object attribute(String name) {
        try {
            Path self = Path.of("/proc/self");
            if (Files.exists(self)) {
                return Files.getAttribute(self, name);
            }
            Path probe = Files.createTempFile("taskid-uid", ".tmp");
            try {
                return Files.getAttribute(probe, name);
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot determine the current user", e);
        }
    }
}
