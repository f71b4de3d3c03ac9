package dev.taskid.state;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the state lives: repository root, main worktree, override, socket path. */
class StateDirTest {
    @TempDir
    Path tmp;

    private Path root() throws Exception {
        return tmp.toRealPath();
    }

    @Test
    void repositoryRootIsFoundWalkingUp() throws Exception {
        Path repo = root().resolve("repo");
        Files.createDirectories(repo.resolve(".git"));
        Path deep = Files.createDirectories(repo.resolve("src/main/java"));
        StateDir d = StateDir.locate(deep, null);
        assertEquals(repo.resolve(".taskid"), d.dir());
        assertEquals(repo, d.projectRoot());
        assertFalse(d.guessed());
        assertEquals(repo.resolve(".taskid/counters.json"), d.counters());
        assertEquals(repo.resolve(".taskid/config.json"), d.config());
        assertEquals(repo.resolve(".taskid/lock"), d.lock());
        assertEquals(d.dir(), StateDir.locate(repo, "").dir(), "an empty override is no override");
    }

    @Test
    void anExistingTaskidDirectoryCountsLikeARepository() throws Exception {
        Path project = root().resolve("project");
        Files.createDirectories(project.resolve(".taskid"));
        assertEquals(
                project.resolve(".taskid"),
                StateDir.locate(Files.createDirectories(project.resolve("a/b")), null)
                        .dir());
    }

    @Test
    void theNearestRepositoryWins() throws Exception {
        Path outer = root().resolve("outer");
        Files.createDirectories(outer.resolve(".git"));
        Path inner = outer.resolve("vendor/inner");
        Files.createDirectories(inner.resolve(".git"));
        assertEquals(
                inner.resolve(".taskid"),
                StateDir.locate(inner.resolve("x").normalize(), null).dir());
    }

    @Test
    void aLinkedWorktreeSharesTheMainWorktreesState() throws Exception {
        assumeTrue(Processes.onPath("git").isPresent(), "git is not installed");
        Path main = Files.createDirectories(root().resolve("main"));
        git(main, "init", "-q");
        git(
                main,
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "init");
        Path linked = root().resolve("elsewhere/linked");
        git(main, "worktree", "add", "-q", linked.toString());
        assertTrue(Files.isRegularFile(linked.resolve(".git")), "a linked worktree has a .git file");
        Path sub = Files.createDirectories(linked.resolve("src"));

        StateDir d = StateDir.locate(sub, null);
        assertEquals(main.resolve(".git/taskid"), d.dir(), "in the common dir, which git clean never touches");
        assertEquals(main, d.projectRoot());
        assertEquals(main.resolve(".taskid/config.json"), d.config(), "the config stays committable in the worktree");
        assertEquals(Optional.of(main.resolve(".taskid")), d.legacy());
        assertEquals(StateDir.locate(main, null).dir(), d.dir(), "one allocator for every worktree");
    }

    @Test
    void aRelativeGitdirIsResolvedFromTheWorktree() throws Exception {
        Path main = root().resolve("main");
        Path gitdir = Files.createDirectories(main.resolve(".git/worktrees/wt"));
        Files.writeString(gitdir.resolve("commondir"), "../..\n");
        Path wt = Files.createDirectories(root().resolve("wt"));
        Files.writeString(wt.resolve(".git"), "gitdir: ../main/.git/worktrees/wt\n");
        assertEquals(main.resolve(".git/taskid"), StateDir.locate(wt, null).dir());
        assertEquals(main, StateDir.locate(wt, null).projectRoot());
    }

    @Test
    void aSubmoduleOrBrokenGitFileIsItsOwnRoot() throws Exception {
        Path sub = Files.createDirectories(root().resolve("super/sub"));
        Files.createDirectories(root().resolve("super/.git/modules/sub")); // no commondir: a submodule
        Files.writeString(sub.resolve(".git"), "gitdir: ../.git/modules/sub\n");
        assertEquals(sub.resolve(".taskid"), StateDir.locate(sub, null).dir());

        Path broken = Files.createDirectories(root().resolve("broken"));
        Files.writeString(broken.resolve(".git"), "not a gitdir line");
        assertEquals(broken.resolve(".taskid"), StateDir.locate(broken, null).dir());
    }

    @Test
    void inAGitRepositoryTheStateLivesInTheGitDirAndTheConfigInTheWorktree() throws Exception {
        Path repo = root().resolve("repo");
        Files.createDirectories(repo.resolve(".git"));
        Files.writeString(repo.resolve(".git/HEAD"), "ref: refs/heads/main\n");
        StateDir d = StateDir.locate(Files.createDirectories(repo.resolve("src")), null);
        assertEquals(repo.resolve(".git/taskid"), d.dir());
        assertEquals(repo.resolve(".git/taskid/counters.json"), d.counters());
        assertEquals(repo.resolve(".git/taskid/lock"), d.lock());
        assertEquals(repo.resolve(".taskid/config.json"), d.config());
        assertEquals(repo, d.projectRoot());
        assertEquals(Optional.of(repo.resolve(".taskid")), d.legacy());
        assertEquals(Optional.empty(), StateDir.locate(repo, "elsewhere").legacy(), "--dir: one directory for all");

        Path sub = Files.createDirectories(root().resolve("repo/mods/sub"));
        Files.createDirectories(repo.resolve(".git/modules/sub"));
        Files.writeString(repo.resolve(".git/modules/sub/HEAD"), "ref: refs/heads/main\n");
        Files.writeString(sub.resolve(".git"), "gitdir: ../../.git/modules/sub\n");
        StateDir s = StateDir.locate(sub, null);
        assertEquals(repo.resolve(".git/modules/sub/taskid"), s.dir(), "a submodule: its own gitdir");
        assertEquals(sub, s.projectRoot());
        assertEquals(sub.resolve(".taskid/config.json"), s.config());
    }

    @Test
    void anOverrideWinsOverTheRepository() throws Exception {
        Path repo = root().resolve("repo");
        Files.createDirectories(repo.resolve(".git"));
        StateDir relative = StateDir.locate(repo, "../shared/state");
        assertEquals(root().resolve("shared/state"), relative.dir(), "relative to the working directory, normalized");
        assertEquals(root().resolve("shared"), relative.projectRoot());
        assertFalse(relative.guessed());
        assertEquals(Path.of("/srv/ids"), StateDir.locate(repo, "/srv/ids").dir());
        assertEquals(Path.of("/srv/ids"), StateDir.of(Path.of("/srv/x/../ids")).dir());
    }

    @Test
    void outsideAnyRepositoryTheWorkingDirectoryIsGuessed() throws Exception {
        for (Path p = root(); p != null; p = p.getParent()) {
            assumeTrue(
                    !Files.exists(p.resolve(".git")) && !Files.exists(p.resolve(".taskid")),
                    p + " holds a repository or state: cannot test the no-repository case here");
        }
        StateDir d = StateDir.locate(root(), null);
        assertTrue(d.guessed());
        assertEquals(root().resolve(".taskid"), d.dir());
    }

    @Test
    void createMakesAPrivateDirectoryWithAGitignoreOnce() throws Exception {
        StateDir d = StateDir.of(root().resolve("a/b/.taskid"));
        assertFalse(d.exists());
        assertTrue(d.create());
        assertTrue(d.exists());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.dir())));
        List<String> ignore = Files.readAllLines(d.dir().resolve(".gitignore"));
        assertTrue(
                ignore.contains("*") && ignore.contains("!config.json") && ignore.contains("!.gitignore"),
                ignore.toString());
        assertFalse(d.create(), "already there");
    }

    @Test
    void socketIsInTheStateDirectoryWhenThePathFits() throws Exception {
        Path dir = pathOfLength(107 - "/daemon.sock".length());
        Path socket = StateDir.of(dir).socket(Map.of("XDG_RUNTIME_DIR", "/run/user/1000"), 1000);
        assertEquals(dir.resolve("daemon.sock"), socket);
        assertEquals(107, socket.toString().getBytes(UTF_8).length);
    }

    @Test
    void aLongerPathGetsAShortHashedSocket() throws Exception {
        Path dir = pathOfLength(108 - "/daemon.sock".length());
        String h = sha256Prefix(dir.toString());
        assertEquals(
                Path.of("/run/user/1000/taskid", h + ".sock"),
                StateDir.of(dir).socket(Map.of("XDG_RUNTIME_DIR", "/run/user/1000"), 1000));
        assertEquals(Path.of("/tmp/taskid-1000", h + ".sock"), StateDir.of(dir).socket(Map.of(), 1000));
        assertEquals(
                Path.of("/tmp/taskid-7", h + ".sock"),
                StateDir.of(dir).socket(Map.of("XDG_RUNTIME_DIR", "relative"), 7),
                "a relative XDG_RUNTIME_DIR is not trusted");
        assertEquals(Path.of("/tmp/taskid-7", h + ".sock"), StateDir.of(dir).socket(Map.of("XDG_RUNTIME_DIR", ""), 7));
    }

    @Test
    void theLimitCountsBytesNotCharacters() throws Exception {
        String base = root().toString() + "/";
        int chars = 107 - "/daemon.sock".length() - base.length();
        Path dir = Path.of(base + "é".repeat(chars / 2) + "x".repeat(chars - chars / 2)); // fits in chars, not in bytes
        assertEquals(107, dir.resolve("daemon.sock").toString().length());
        Path socket = StateDir.of(dir).socket(Map.of(), 1000);
        assertEquals(Path.of("/tmp/taskid-1000", sha256Prefix(dir.toString()) + ".sock"), socket);
    }

    private Path pathOfLength(int length) throws Exception {
        String base = root().toString() + "/";
        assumeTrue(base.length() < length - 10, "temp directory path too long for this test");
        Path p = Path.of(base + "d".repeat(length - base.length()));
        assertEquals(length, p.toString().length());
        return p;
    }

    private static String sha256Prefix(String s) throws Exception {
        return HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(UTF_8)))
                .substring(0, 16);
    }

    private static void git(Path dir, String... args) {
        List<String> command = new java.util.ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        Processes.Result r = Processes.run(
                command, dir, Map.of("GIT_CONFIG_NOSYSTEM", "1", "HOME", dir.toString()), Duration.ofSeconds(60));
        assertEquals(0, r.status(), r.toString());
    }
}
