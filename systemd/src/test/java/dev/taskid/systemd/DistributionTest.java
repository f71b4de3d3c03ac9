package dev.taskid.systemd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tarball works wherever it is unpacked: its launcher finds its own jars, no build needed,
 * and the units it installs start a daemon that serves this repository.
 */
class DistributionTest {
    @TempDir
    static Path tmp;

    private static Path home;

    @BeforeAll
    static void unpack() throws Exception {
        home = Dist.unpack(tmp);
    }

    @Test
    void unpackedTarballReserves() throws Exception {
        for (String entry : List.of(
                "bin/taskid", "lib/taskid-cli.jar", "lib/taskid-daemon.jar", "README.md", "LICENSE", "docs/taskid.1")) {
            assertTrue(Files.exists(home.resolve(entry)), "tarball lacks " + entry);
        }
        // Every local link of the README it ships (docs/CLIENTS.md, PROTOCOL.md, ...) resolves in it.
        Matcher link =
                Pattern.compile("\\]\\(((?!https?:|#)[^)#]+)").matcher(Files.readString(home.resolve("README.md")));
        while (link.find()) {
            assertTrue(
                    Files.exists(home.resolve(link.group(1))),
                    "README.md links " + link.group(1) + ", not in the tarball");
        }
        assertFalse(Files.exists(home.resolve("systemd")), "no loose units naming a path this copy is not at");
        Path work = Files.createDirectories(tmp.resolve("work"));
        Processes.Result r =
                taskid(work, Map.of(), "--dir", work.resolve(".taskid").toString(), "reserve", "SEC");
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stdout().matches("\\{\"ids\":\\[\"SEC-1\"],\"reservedAt\":\"[^\"]+Z\"}\\n"), r.stdout());
    }

    /**
     * {@code systemd install} writes units that point at this installation, for the instance
     * systemd-escape names; started the way systemd starts them (socket first, the service's
     * ExecStart on the first connection) they serve the repository; uninstall removes them.
     */
    @Test
    void installedUnitsServeTheRepository() throws Exception {
        assumeTrue(Processes.onPath("systemd-socket-activate").isPresent(), "systemd-socket-activate is not installed");
        assumeTrue(Processes.onPath("systemd-escape").isPresent(), "systemd-escape is not installed");
        Path repo = Files.createDirectories(tmp.resolve("my-repo_1"));
        Files.createDirectories(repo.resolve(".git"));
        Files.writeString(repo.resolve(".git/HEAD"), "ref: refs/heads/main\n"); // a repository, as the units expect
        Files.writeString(repo.resolve("TASKS.md"), "| SEC-41 | existing |\n");
        Map<String, String> env =
                Map.of("XDG_CONFIG_HOME", tmp.resolve("config").toString());
        Path unitDir = tmp.resolve("config/systemd/user");

        Processes.Result install = taskid(repo, env, "systemd", "install");
        assertEquals(0, install.status(), install.stderr());
        String instance = Processes.run(
                        List.of("systemd-escape", "--path", repo.toString()), tmp, Map.of(), Duration.ofSeconds(30))
                .stdout()
                .trim();
        assertTrue(
                install.stdout().contains("systemctl --user enable --now taskid@" + instance + ".socket"),
                install.stdout());
        String socketUnit = Files.readString(unitDir.resolve("taskid@.socket"));
        String serviceUnit = Files.readString(unitDir.resolve("taskid@.service"));

        // What systemd does: %f is the instance unescaped to a path, and the socket comes first.
        String f = repo.toString();
        Path socket = Path.of(value(socketUnit, "ListenStream").replace("%f", f));
        List<String> exec =
                Arrays.asList(value(serviceUnit, "ExecStart").replace("%f", f).split(" "));
        assertEquals(home.resolve("bin/taskid").toString(), exec.get(0), "ExecStart runs this installation");
        List<String> activate = new ArrayList<>(List.of("systemd-socket-activate", "-l", socket.toString()));
        activate.addAll(exec);
        Files.createDirectories(socket.getParent());
        Process daemon = new ProcessBuilder(activate)
                .directory(repo.toFile())
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("activated.log").toFile())
                .start();
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(socket));
            Processes.Result r = taskid(repo, Map.of(), "--no-fallback", "reserve", "SEC", "--verbose");
            assertEquals(0, r.status(), r.stderr() + Files.readString(tmp.resolve("activated.log")));
            assertTrue(r.stdout().contains("\"ids\":[\"SEC-42\"]"), r.stdout());
            assertTrue(r.stdout().contains("\"mode\":\"daemon\""), r.stdout());
        } finally {
            daemon.destroy();
            assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "the activated daemon stops on SIGTERM");
        }

        Processes.Result uninstall = taskid(repo, env, "systemd", "uninstall");
        assertEquals(0, uninstall.status(), uninstall.stderr());
        assertTrue(
                uninstall.stdout().contains("systemctl --user disable --now taskid@" + instance + ".socket"),
                uninstall.stdout());
        assertFalse(Files.exists(unitDir.resolve("taskid@" + instance + ".service.d")));
    }

    /** The launcher refuses a Java older than 17 with a clear message and exit 6, before running anything. */
    @Test
    void launcherRefusesJavaOlderThan17() throws Exception {
        Path old = Files.createDirectories(tmp.resolve("jdk11/bin"));
        Files.writeString(old.resolve("java"), "#!/bin/sh\necho ran >&2\nexit 0\n");
        assertTrue(old.resolve("java").toFile().setExecutable(true));
        Files.writeString(old.getParent().resolve("release"), "JAVA_VERSION=\"11.0.22\"\n");
        Processes.Result r = Processes.run(
                List.of(home.resolve("bin/taskid").toString(), "reserve", "SEC"),
                tmp,
                Map.of("JAVA_HOME", old.getParent().toString()),
                Duration.ofSeconds(60));
        assertEquals(6, r.status(), r.toString());
        assertEquals("", r.stdout());
        assertTrue(
                r.stderr().contains("needs Java 17 or newer")
                        && r.stderr().contains("11.0.22")
                        && !r.stderr().contains("ran"),
                r.toString());
    }

    private static String value(String unit, String key) {
        Matcher m = Pattern.compile("(?m)^" + key + "=(.+)$").matcher(unit);
        assertTrue(m.find(), key + " missing in\n" + unit);
        return m.group(1).trim();
    }

    private static Processes.Result taskid(Path cwd, Map<String, String> env, String... args) throws Exception {
        List<String> command =
                new ArrayList<>(List.of(home.resolve("bin/taskid").toString()));
        command.addAll(List.of(args));
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("JAVA_HOME", System.getProperty("java.home"));
        return Processes.run(command, cwd, all, Duration.ofSeconds(120));
    }
}
