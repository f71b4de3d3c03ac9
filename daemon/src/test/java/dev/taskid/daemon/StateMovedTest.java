package dev.taskid.daemon;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.cli.LockHolder;
import dev.taskid.client.TaskIds;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.Processes;
import dev.taskid.testing.Processes.Result;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What users do to a repository's files while a daemon serves it (issue 10, item 1), with a
 * real daemon, real CLI processes and real git: nothing they do to the worktree reaches the
 * state any more, and a writer whose state directory is removed or replaced under it stops
 * with STATE_MOVED instead of writing beside a new writer.
 */
class StateMovedTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final Pattern ID = Pattern.compile("\"((SEC|OPS)-[0-9]+)\"");

    @TempDir
    Path tmp;

    /**
     * git clean -xfd, rm -rf .taskid, mv + mkdir, and a cp -a restore of an older .taskid,
     * one after the other under one running daemon: every CLI call still reaches that daemon
     * and no ID is handed out twice. (Before: each of them made the next CLI call fall back on
     * a new lock file and hand out SEC-1 again.)
     */
    @Test
    void whatUsersDoToTheWorktreeNeverReachesTheState() throws Exception {
        Assumptions.assumeTrue(Processes.onPath("git").isPresent(), "skipped: git is not installed");
        Path repo = Files.createDirectories(tmp.resolve("repo"));
        sh(repo, "git init -q && git -c user.name=t -c user.email=t@example.invalid commit -q --allow-empty -m init");
        Files.createDirectories(repo.resolve(".taskid"));
        Files.writeString(repo.resolve(".taskid/config.json"), "{\"extraPrefixes\":[\"OPS\"]}");
        List<String> handedOut = new ArrayList<>();
        try (DaemonProcess daemon = DaemonProcess.startIn(repo, List.of())) {
            handedOut.addAll(reserve(repo, "SEC", 2));
            sh(repo, "cp -a .taskid " + tmp.resolve("backup"));
            handedOut.addAll(reserve(repo, "SEC", 1));

            sh(repo, "git clean -xfdq");
            handedOut.addAll(reserve(repo, "SEC", 2));
            sh(repo, "rm -rf .taskid");
            handedOut.addAll(reserve(repo, "SEC", 1));
            sh(
                    repo,
                    "mkdir .taskid && cp " + tmp.resolve("backup/config.json")
                            + " .taskid/ && mv .taskid .taskid.old && mkdir .taskid");
            handedOut.addAll(reserve(repo, "SEC", 1));
            sh(repo, "rm -rf .taskid .taskid.old && cp -a " + tmp.resolve("backup") + " .taskid");
            handedOut.addAll(reserve(repo, "SEC", 2));
            handedOut.addAll(reserve(repo, "OPS", 1));

            assertTrue(daemon.process().isAlive(), daemon.log());
            assertEquals(
                    List.of("SEC-1", "SEC-2", "SEC-3", "SEC-4", "SEC-5", "SEC-6", "SEC-7", "SEC-8", "SEC-9", "OPS-1"),
                    handedOut,
                    "one allocator throughout, no ID twice");
            assertTrue(Files.isRegularFile(repo.resolve(".git/taskid/counters.json")), "the state is in the git dir");
        }
    }

    /**
     * The state directory itself removed, moved aside and replaced, or replaced by an older
     * copy, under a daemon (a long path: its socket lives outside the directory, so clients
     * still reach it): the next reservation is answered STATE_MOVED with nothing written, and
     * the daemon exits non-zero. (Before: it wrote into whatever was at the path, or failed
     * with SYSTEM_ERROR and served on.)
     */
    @Test
    void aDaemonWhoseStateDirectoryIsReplacedAnswersStateMovedAndExits() throws Exception {
        List<String> variants =
                List.of("rm -rf STATE", "mv STATE STATE.old && mkdir STATE", "rm -rf STATE && cp -a BACKUP STATE");
        for (int i = 0; i < variants.size(); i++) {
            String how = variants.get(i);
            Path state = tmp.resolve(i + "-state-" + "x".repeat(100));
            Files.createDirectories(state);
            Path runtime = Files.createDirectories(tmp.resolve("run"));
            Map<String, String> env = Map.of("XDG_RUNTIME_DIR", runtime.toString());
            // No watch in the way: the reservation is what must find the state moved.
            try (DaemonProcess daemon = DaemonProcess.start(state, env, List.of("-Dtaskid.stateWatchMillis=600000"));
                    TaskIds client = TaskIds.open(StateDir.of(state), daemon.clientOptions())) {
                assertEquals(
                        List.of("SEC-1", "SEC-2"),
                        client.reserve("SEC", 2, "before").ids());
                Path backup = tmp.resolve(i + "-backup");
                sh(tmp, "cp -a " + state + " " + backup);
                assertEquals(
                        List.of("SEC-3"),
                        client.reserve("SEC", 1, "after the backup").ids());
                byte[] restored = Files.readAllBytes(backup.resolve("counters.json"));
                sh(tmp, how.replace("STATE", state.toString()).replace("BACKUP", backup.toString()));

                Response r = client.call(new Request.Reserve(null, "SEC", 1, "after", null, null))
                        .response();
                assertTrue(r instanceof Response.Failure f && f.code() == ErrorCode.STATE_MOVED, how + ": " + r);
                assertEquals(
                        ErrorCode.STATE_MOVED.exitStatus(),
                        daemon.awaitExit(),
                        how + ": exits non-zero\n" + daemon.log());
                assertTrue(daemon.log().contains("STATE_MOVED"), daemon.log());
                if (how.contains("BACKUP")) {
                    assertEquals(
                            new String(restored, StandardCharsets.UTF_8),
                            Files.readString(state.resolve("counters.json")),
                            how + ": nothing written");
                } else {
                    assertFalse(Files.exists(state.resolve("counters.json")), how + ": nothing written");
                }
            }
        }
    }

    /**
     * Without any request: a daemon whose state directory was moved aside exits by itself
     * soon, so `taskid daemon status` saying "not running" is true. (Before: it lived on,
     * serving from memory, while status said not running.)
     */
    @Test
    void aDaemonWhoseStateDirectoryIsMovedExitsByItself() throws Exception {
        Path state = Files.createDirectories(tmp.resolve("watched/.taskid"));
        try (DaemonProcess daemon = DaemonProcess.start(state, Map.of(), List.of("-Dtaskid.stateWatchMillis=200"))) {
            sh(tmp, "mv " + state + " " + state + ".old && mkdir " + state);
            assertEquals(ErrorCode.STATE_MOVED.exitStatus(), daemon.awaitExit(), daemon.log());
            Result status = taskid(state, "daemon", "status");
            assertEquals(3, status.status(), status::toString);
        }
    }

    /**
     * A fallback writer that opened the lock file, waited for it, and got it after the state
     * directory was replaced holds a lock on a file nobody else uses: STATE_MOVED, nothing
     * written. (Before: it wrote counters from scratch into the new directory: SEC-1 again.)
     */
    @Test
    void aFallbackWriterThatLockedAReplacedFileWritesNothing() throws Exception {
        Path state = Files.createDirectories(tmp.resolve("fallback/.taskid"));
        assertEquals(List.of("SEC-1", "SEC-2"), ids(taskid(state, "reserve", "SEC", "2")));
        Process holder = new ProcessBuilder(LockHolder.command(state))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", out.readLine());
            List<String> command = new ArrayList<>(
                    Processes.taskid("--dir", state.toString(), "--lock-timeout", "60000", "reserve", "SEC"));
            Process waiter = new ProcessBuilder(command)
                    .directory(state.getParent().toFile())
                    .start();
            java.util.concurrent.CompletableFuture<String> waiterErr =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> read(waiter.getErrorStream()));
            java.util.concurrent.CompletableFuture<String> waiterOut =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> read(waiter.getInputStream()));
            await().atMost(TIMEOUT).until(() -> DaemonLifecycleTest.hasOpen(waiter.pid(), state.resolve("lock")));

            sh(tmp, "mv " + state + " " + state + ".old && mkdir " + state);
            holder.getOutputStream().close(); // the holder releases and exits

            assertTrue(waiter.waitFor(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(ErrorCode.STATE_MOVED.exitStatus(), waiter.exitValue(), waiterOut.join() + waiterErr.join());
            assertTrue(
                    waiterErr.join().contains("STATE_MOVED") || waiterErr.join().contains("replaced"),
                    waiterErr.join());
            assertFalse(Files.exists(state.resolve("counters.json")), "nothing written in the new directory");
        } finally {
            holder.destroyForcibly();
            holder.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private static List<String> reserve(Path repo, String prefix, int n) {
        Result r = Processes.run(
                Processes.taskid("reserve", prefix, String.valueOf(n), "--verbose"), repo, Map.of(), TIMEOUT);
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.stdout().contains("\"mode\":\"daemon\""), "served by the daemon: " + r);
        return ids(r);
    }

    private static List<String> ids(Result r) {
        assertEquals(0, r.status(), r::toString);
        String list = r.stdout().substring(r.stdout().indexOf('['), r.stdout().indexOf(']') + 1);
        List<String> out = new ArrayList<>();
        Matcher m = ID.matcher(list);
        while (m.find()) {
            out.add(m.group(1));
        }
        Set<String> unique = new HashSet<>(out);
        assertEquals(out.size(), unique.size(), "no duplicate within one answer: " + out);
        return out;
    }

    private static Result taskid(Path state, String... args) {
        List<String> command = new ArrayList<>(Processes.taskid("--dir", state.toString()));
        command.addAll(List.of(args));
        return Processes.run(command, state.getParent(), Map.of(), TIMEOUT);
    }

    private static void sh(Path cwd, String script) {
        Result r = Processes.run(List.of("sh", "-c", script), cwd, Map.of(), TIMEOUT);
        assertEquals(0, r.status(), script + ": " + r);
    }
}
