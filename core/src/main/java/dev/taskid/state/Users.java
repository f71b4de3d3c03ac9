package dev.taskid.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The current process's user id, without native code. */
public final class Users {
    private Users() {
    }

    /** The uid that owns this process (Linux: the owner of /proc/self; else a fresh temp file). */
    public static int currentUid() {
        try {
            Path self = Path.of("/proc/self");
            if (Files.exists(self)) {
                return (Integer) Files.getAttribute(self, "unix:uid");
            }
            Path probe = Files.createTempFile("taskid-uid", ".tmp");
            try {
                return (Integer) Files.getAttribute(probe, "unix:uid");
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot determine the current uid", e);
        }
    }
}
