package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the directory fsync after the rename fails (an LD_PRELOAD shim makes fsync of a
 * directory return EIO), the error says what is true: counters.json was replaced but may come
 * back old after a power loss, nothing was acknowledged; not "the file is unchanged".
 */
class DirFsyncFailureCliTest {
    private static final String SHIM = """
            #define _GNU_SOURCE
            #include <dlfcn.h>
            #include <errno.h>
            #include <sys/stat.h>
            int fsync(int fd) {
                struct stat st;
                if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) { errno = EIO; return -1; }
                int (*real)(int) = (int (*)(int)) dlsym(RTLD_NEXT, "fsync");
                return real(fd);
            }
            """;

    @TempDir
    Path tmp;

    @Test
    void aFailedDirectoryFsyncSaysTheFileWasReplaced() throws Exception {
        Assumptions.assumeTrue(
                Processes.onPath("gcc").isPresent(), "skipped: gcc is not on PATH (.ci/run installs it)");
        Path source = tmp.resolve("dirfsync.c");
        Files.writeString(source, SHIM);
        Path shim = tmp.resolve("dirfsync.so");
        Processes.Result cc = Processes.run(
                List.of("gcc", "-shared", "-fPIC", "-o", shim.toString(), source.toString(), "-ldl"),
                tmp,
                Map.of(),
                CliRepo.TIMEOUT);
        assertEquals(0, cc.status(), cc.toString());

        CliRepo repo = CliRepo.in(tmp.resolve("repo"));
        assertEquals(0, repo.taskid("reserve", "SEC").status()); // creates the state without the shim
        Processes.Result failed = Processes.run(
                Processes.taskid("--json", "reserve", "SEC"),
                repo.root(),
                Map.of("LD_PRELOAD", shim.toString()),
                CliRepo.TIMEOUT);
        assertEquals(ErrorCode.SYSTEM_ERROR.exitStatus(), failed.status(), failed.toString());
        assertEquals("", failed.stdout(), "nothing acknowledged: " + failed);
        String message = (String) CliRepo.error(failed).get("message");
        assertFalse(message.contains("unchanged"), message);
        assertTrue(
                message.contains("was replaced")
                        && message.contains("power loss")
                        && message.contains("never handed out twice"),
                message);

        Processes.Result next = repo.taskid("reserve", "SEC");
        assertEquals(0, next.status(), next.toString());
        assertEquals(List.of("SEC-3"), CliRepo.object(next.stdout()).get("ids"), "SEC-2 was burned, not reissued");
    }
}
