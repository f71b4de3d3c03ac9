package dev.taskid.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Debian package built by {@code mvn verify}, exactly as shipped: its files are where
 * Debian puts them, and, unpacked over /usr in a private mount namespace (overlays: the host
 * is untouched), its units pass {@code systemd-analyze verify} where they are installed and its
 * {@code /usr/bin/taskid} reserves IDs in a fresh repository with Maven out of reach.
 * (.ci/run also installs it for real with dpkg -i and removes it.)
 */
class DebianPackageTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(180);

    @TempDir
    Path tmp;

    @Test
    void packageHoldsTheLayoutDebianUsers() throws Exception {
        assumeTrue(Processes.onPath("dpkg-deb").isPresent(), "skipped: dpkg-deb is not installed");
        Processes.Result list = Processes.run(List.of("dpkg-deb", "-c", deb().toString()), tmp, Map.of(), TIMEOUT);
        assertEquals(0, list.status(), list.toString());
        for (String path : List.of(
                "./usr/bin/taskid -> ../share/taskid/bin/taskid",
                "./usr/share/taskid/bin/taskid",
                "./usr/share/taskid/lib/taskid-cli.jar",
                "./usr/share/taskid/lib/taskid-daemon.jar",
                "./usr/lib/systemd/user/taskid@.socket",
                "./usr/lib/systemd/user/taskid@.service",
                "./usr/lib/systemd/system/taskid.service",
                "./usr/share/man/man1/taskid.1",
                "./usr/share/doc/taskid/copyright",
                "./usr/share/doc/taskid/LICENSE",
                "./usr/share/doc/taskid/README.md",
                "./usr/share/doc/taskid/docs/PROTOCOL.md",
                "./usr/share/doc/taskid/docs/clients/taskid-reserve.sh")) {
            assertTrue(list.stdout().contains(" " + path + "\n"), "the package lacks " + path + ":\n" + list.stdout());
        }
        Processes.Result info =
                Processes.run(List.of("dpkg-deb", "-f", deb().toString(), "Depends"), tmp, Map.of(), TIMEOUT);
        assertEquals("java17-runtime-headless", info.stdout().trim());
    }

    @Test
    void unpackedOverUsrItsUnitsVerifyAndItReserves() throws Exception {
        assumeTrue(Processes.onPath("dpkg-deb").isPresent(), "skipped: dpkg-deb is not installed");
        assumeTrue(
                Processes.onPath("unshare").isPresent()
                        && Processes.onPath("systemd-analyze").isPresent(),
                "skipped: needs unshare (util-linux) and systemd-analyze");
        assumeTrue(dev.taskid.state.Users.currentUid() == 0, "skipped: mounting overlays needs root");
        Path root = Files.createDirectories(tmp.resolve("root"));
        assertEquals(
                0,
                Processes.run(List.of("dpkg-deb", "-x", deb().toString(), root.toString()), tmp, Map.of(), TIMEOUT)
                        .status());
        Path repo = Files.createDirectories(tmp.resolve("fresh repo"));
        Files.createDirectories(repo.resolve(".git"));
        Files.writeString(repo.resolve("TASKS.md"), "| SEC-19 | existing |\n");
        Files.createDirectories(tmp.resolve("runtime"));
        // The shipped template files under instance names, as systemd instantiates them.
        String instance = Processes.run(List.of("systemd-escape", "--path", repo.toString()), tmp, Map.of(), TIMEOUT)
                .stdout()
                .trim();
        Path instances = Files.createDirectories(tmp.resolve("instances"));
        for (String suffix : List.of(".socket", ".service")) {
            Files.createSymbolicLink(
                    instances.resolve("taskid@" + instance + suffix),
                    root.resolve("usr/lib/systemd/user/taskid@" + suffix));
        }
        String script = String.join(
                "\n",
                "set -eu",
                "mount -t overlay overlay -o lowerdir=\"$R/usr/bin:/usr/bin\" /usr/bin",
                "mount -t overlay overlay -o lowerdir=\"$R/usr/share:/usr/share\" /usr/share",
                "if [ -e /usr/bin/mvn ]; then mount --bind /dev/null \"$(readlink -f /usr/bin/mvn)\"; fi",
                "if mvn -v >/dev/null 2>&1; then echo 'maven is still reachable' >&2; exit 9; fi",
                "export SYSTEMD_LOG_COLOR=0",
                "systemd-analyze verify \"$R/usr/lib/systemd/system/taskid.service\"",
                "XDG_RUNTIME_DIR=\"$T/runtime\" systemd-analyze --user verify \"$T/instances/taskid@$I.socket\""
                        + " \"$T/instances/taskid@$I.service\"",
                "echo verified",
                "cd \"$REPO\"",
                "env -u JAVA_HOME XDG_CACHE_HOME=\"$T/cache\" /usr/bin/taskid reserve SEC 2");
        Processes.Result r = Processes.run(
                List.of("unshare", "-m", "sh", "-c", script),
                tmp,
                Map.of("R", root.toString(), "T", tmp.toString(), "I", instance, "REPO", repo.toString()),
                TIMEOUT);
        assertEquals(0, r.status(), r.toString());
        // Only taskid's first-use notice (and, once, the start-up archive): systemd-analyze says nothing.
        assertEquals(
                "",
                r.stderr()
                        .lines()
                        .filter(l -> !l.contains("start-up archive") && !l.startsWith("taskid: created "))
                        .reduce("", (a, b) -> a + b + "\n"),
                r.toString());
        assertTrue(r.stdout().startsWith("verified\n{\"ids\":[\"SEC-20\",\"SEC-21\"]"), r.toString());
    }

    private static Path deb() {
        Path deb = Path.of(System.getProperty("taskid.deb"));
        assertTrue(Files.isRegularFile(deb), "missing " + deb);
        return deb;
    }
}
