package dev.taskid.systemd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's start-up archive (docs/BENCHMARKS.md, "Daemon RSS and ready time, session 6"):
 * the launcher makes one per daemon jar and java, the daemon's classes come from it, a jar
 * newer than the archive makes a new one, and a start that finds another launcher making the
 * archive (its lock held) starts at once without one rather than wait or read a partial file.
 */
class DaemonArchiveTest {
    private static final Duration START = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    @Test
    void theDaemonRunsFromItsArchiveAndANewJarGetsANewOne() throws Exception {
        Path home = Dist.unpack(tmp);
        Path cds = home.resolve("lib/cds");

        String first = start(home, "one");
        assertTrue(fromArchive(first), "DaemonMain was not loaded from the start-up archive:\n" + first);
        Path archive = daemonArchive(cds);
        FileTime made = Files.getLastModifiedTime(archive);

        // A new jar (an upgrade, a rebuild): the archive of the old one is not used, a new one is made.
        Path jar = home.resolve("lib/taskid-daemon.jar");
        Files.setLastModifiedTime(jar, FileTime.from(made.toInstant().plusSeconds(5)));
        String second = start(home, "two");
        assertTrue(fromArchive(second), "after a new jar:\n" + second);
        assertTrue(
                Files.getLastModifiedTime(daemonArchive(cds)).compareTo(Files.getLastModifiedTime(jar)) >= 0,
                "the archive was not made again for the new jar");
        try (Stream<Path> left = Files.list(cds)) {
            assertEquals(
                    List.of(),
                    left.filter(p -> p.getFileName().toString().contains(".tmp."))
                            .toList());
        }
    }

    @Test
    void aStartThatFindsTheArchiveBeingMadeDoesNotWaitAndReadsNoPartialFile() throws Exception {
        Path home = Dist.unpack(tmp);
        Path cds = Files.createDirectories(home.resolve("lib/cds"));
        // What a creator killed half-way leaves: never read, removed by the next creator.
        Path partial = cds.resolve(".4242.daemon.tmp.jsa");
        Files.write(partial, new byte[4096]);
        Process holder = new ProcessBuilder("flock", "-o", cds.resolve(".lock").toString(), "sleep", "600")
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("flock.log").toFile())
                .start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(cds.resolve(".lock")));
            String busy = start(home, "busy");
            assertFalse(fromArchive(busy), "no archive was there to use:\n" + busy);
            assertTrue(Files.exists(partial), "only the lock holder cleans up");
        } finally {
            // -o: flock holds the lock itself, not its sleep, so ending flock releases it.
            holder.descendants().forEach(ProcessHandle::destroy);
            holder.destroy();
            assertTrue(holder.waitFor(10, TimeUnit.SECONDS));
        }
        String next = start(home, "next");
        assertTrue(fromArchive(next), next);
        assertFalse(Files.exists(partial), "the next creator removed the partial file");
    }

    /** Socket-activated (LISTEN_FDS set), a client waits for the answer: no training run first. */
    @Test
    void aSocketActivatedStartMakesNoArchive() throws Exception {
        Path home = Dist.unpack(tmp);
        // LISTEN_PID names another process, so the daemon binds its own socket as usual.
        String activated = start(home, "activated", Map.of("LISTEN_FDS", "1", "LISTEN_PID", "1"));
        assertFalse(fromArchive(activated), activated);
        assertFalse(Files.exists(home.resolve("lib/cds")) && hasDaemonArchive(home.resolve("lib/cds")));
        assertTrue(fromArchive(start(home, "plain")), "an ordinary start makes and uses one");
    }

    private String start(Path home, String name) throws Exception {
        return start(home, name, Map.of());
    }

    /**
     * Starts {@code bin/taskid daemon} on a state directory of its own, waits for its socket,
     * stops it with SIGTERM and returns the class-loading log of that daemon.
     */
    private String start(Path home, String name, Map<String, String> env) throws Exception {
        Path state = tmp.resolve(name + "/.taskid");
        Path classes = tmp.resolve(name + "-classes.log");
        ProcessBuilder pb = new ProcessBuilder(
                        home.resolve("bin/taskid").toString(), "daemon", "--dir", state.toString())
                .directory(tmp.toFile())
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve(name + ".log").toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("TASKID_DAEMON_JAVA_OPTS", "-Xlog:class+load=info:file=" + classes);
        pb.environment().putAll(env);
        Process daemon = pb.start();
        try {
            await().atMost(START).until(() -> Files.exists(state.resolve("daemon.sock")) || !daemon.isAlive());
            assertTrue(daemon.isAlive(), () -> "the daemon exited: " + read(tmp.resolve(name + ".log")));
        } finally {
            daemon.destroy();
            assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "the daemon stops on SIGTERM");
        }
        return read(classes);
    }

    /** Whether the daemon's main class came from a class-data archive (AppCDS or the AOT cache). */
    private static boolean fromArchive(String classLog) {
        return classLog.lines()
                .anyMatch(
                        l -> l.contains(" dev.taskid.daemon.DaemonMain ") && l.contains("source: shared objects file"));
    }

    private static boolean hasDaemonArchive(Path cds) throws IOException {
        try (Stream<Path> files = Files.list(cds)) {
            return files.anyMatch(p -> p.getFileName().toString().startsWith("daemon-"));
        }
    }

    private static Path daemonArchive(Path cds) throws IOException {
        try (Stream<Path> files = Files.list(cds)) {
            List<Path> archives = files.filter(p -> {
                        String n = p.getFileName().toString();
                        return n.startsWith("daemon-") && (n.endsWith(".jsa") || n.endsWith(".aot"));
                    })
                    .toList();
            assertEquals(1, archives.size(), archives::toString);
            return archives.get(0);
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }
}
