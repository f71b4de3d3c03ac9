package dev.taskid.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's call path forks nothing it can do without (a fork and exec cost ~2-10 ms of
 * CPU per call on these machines; docs/BENCHMARKS.md, "CLI start-up, session 7"): installed
 * as the Debian package installs it ({@code /usr/bin/taskid -> ../share/taskid/bin/taskid}),
 * with {@code java} found on PATH (Debian's {@code /usr/bin/java} is a chain of links into
 * {@code /usr/lib/jvm}) and no JAVA_HOME, a call runs no {@code readlink}. A spy
 * {@code readlink} first on PATH records every run. Fails on the launcher before session 7,
 * which resolved both links with {@code readlink -f} on every call.
 */
class LauncherForkTest {
    @TempDir
    Path tmp;

    @Test
    void aCallThroughTheDebianLayoutsLinkRunsNoReadlink() throws Exception {
        Path home = Dist.unpack(tmp);
        Path usr = tmp.resolve("usr");
        Path share = Files.createDirectories(usr.resolve("share/taskid/bin"));
        Files.copy(home.resolve("bin/taskid"), share.resolve("taskid"));
        assertTrue(share.resolve("taskid").toFile().setExecutable(true));
        Path lib = Files.createDirectories(usr.resolve("share/taskid/lib"));
        try (Stream<Path> jars = Files.list(home.resolve("lib"))) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).toList()) {
                Files.copy(jar, lib.resolve(jar.getFileName()));
            }
        }
        Path bin = Files.createDirectories(usr.resolve("bin"));
        Files.createSymbolicLink(bin.resolve("taskid"), Path.of("../share/taskid/bin/taskid"));

        String readlink = Processes.onPath("readlink").orElse("/usr/bin/readlink");
        Path spyDir = Files.createDirectories(tmp.resolve("spy"));
        Path spyLog = tmp.resolve("readlink.log");
        Files.writeString(
                spyDir.resolve("readlink"),
                "#!/bin/sh\necho \"$*\" >>'" + spyLog + "'\nexec '" + readlink + "' \"$@\"\n");
        assertTrue(spyDir.resolve("readlink").toFile().setExecutable(true));

        // java as PATH gives it, when the launcher can find its home without readlink: not a
        // link, or a link into /usr/lib/jvm (Debian, Fedora)
        Path java = Path.of(Processes.onPath("java").orElse("/usr/bin/java"));
        assumeTrue(Files.isExecutable(java), "no java on PATH");
        assumeTrue(
                !Files.isSymbolicLink(java) || java.toRealPath().startsWith("/usr/lib/jvm/"),
                java + " leads outside /usr/lib/jvm: the launcher resolves it with readlink");

        Path state = tmp.resolve("work/.taskid");
        Files.createDirectories(state.getParent());
        Processes.Result r = Processes.run(
                List.of(
                        "env",
                        "-u",
                        "JAVA_HOME",
                        bin.resolve("taskid").toString(),
                        "--dir",
                        state.toString(),
                        "reserve",
                        "SEC"),
                state.getParent(),
                // no archive made here: the training is not what this test is about
                Map.of("PATH", spyDir + ":" + java.getParent() + ":/usr/bin:/bin", "TASKID_NO_CDS", "1"),
                Duration.ofSeconds(120));
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.stdout().startsWith("{\"ids\":[\"SEC-1\"]"), r.toString());
        assertFalse(Files.exists(spyLog), () -> "readlink ran: " + read(spyLog));
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
