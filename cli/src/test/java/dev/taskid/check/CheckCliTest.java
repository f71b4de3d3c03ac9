package dev.taskid.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code taskid check} through the real CLI on a real git repository: branches read with git
 * (nothing checked out), a linked worktree with uncommitted edits, --fix, and the pre-commit hook
 * run by a real {@code git commit}.
 */
class CheckCliTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Map<String, String> GIT_ENV = Map.of(
            "GIT_AUTHOR_NAME",
            "t",
            "GIT_AUTHOR_EMAIL",
            "t@example.com",
            "GIT_COMMITTER_NAME",
            "t",
            "GIT_COMMITTER_EMAIL",
            "t@example.com",
            "GIT_CONFIG_NOSYSTEM",
            "1");
    private static final String TASKS = "# Tasks\n\n"
            + "| ID | Title | Estimate | Priority | Status | | Source |\n"
            + "|---|---|---|---|---|---|---|\n"
            + "| SEC-21 | Old task | 1h | Low | done | | manual |\n"
            + "| SEC-22 | Fix auth | 1h | High | ready | | manual |\n"
            + "| PERF-3 | Cache the index | | | ready | | manual |\n";

    @TempDir
    Path root;

    Path repo;

    @BeforeEach
    void repository() throws IOException {
        repo = root.resolve("repo");
        Files.createDirectories(repo);
        git(repo, "init", "-q", "-b", "main");
        Files.writeString(repo.resolve("TASKS.md"), TASKS);
        Files.writeString(repo.resolve(".gitignore"), ".taskid/\n");
        git(repo, "add", "-A");
        git(repo, "commit", "-qm", "tasks");
    }

    private static Processes.Result git(Path dir, String... args) {
        List<String> command = new ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        Processes.Result r = Processes.run(command, dir, GIT_ENV, TIMEOUT);
        assertEquals(0, r.status(), () -> command + "\n" + r);
        return r;
    }

    private static Processes.Result taskid(Path dir, String... args) {
        return Processes.run(Processes.taskid(args), dir, Map.of(), TIMEOUT);
    }

    private void append(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
    }

    @Test
    void findsDuplicatesIdsAboveTheCounterAndConflictsAcrossBranchesAndWorktrees() throws IOException {
        Processes.Result clean = taskid(repo, "check");
        assertEquals(0, clean.status(), clean::toString);
        assertEquals(0, taskid(repo, "reserve", "SEC", "2").status(), "SEC-23 and SEC-24 are now issued");

        // A branch reuses SEC-22 for another task and adds SEC-23; nothing of it is checked out here.
        git(repo, "checkout", "-q", "-b", "feature");
        Files.writeString(
                repo.resolve("TASKS.md"),
                TASKS.replace("| SEC-22 | Fix auth |", "| SEC-22 | Add a caching layer |")
                        + "| SEC-23 | Feature work | | | ready | | manual |\n");
        git(repo, "commit", "-qam", "feature");
        git(repo, "checkout", "-q", "main");
        // A linked worktree gives SEC-23 to something else, uncommitted.
        Path wt = root.resolve("wt");
        git(repo, "worktree", "add", "-q", "-b", "other", wt.toString());
        append(wt.resolve("TASKS.md"), "| SEC-23 | Unrelated billing bug | | | ready | | manual |\n");
        // Here: SEC-21 defined twice and SEC-30 written without reserving.
        append(repo.resolve("TASKS.md"), "| SEC-21 | Old task, again | | | | | |\n| SEC-30 | Made up | | | | | |\n");

        Processes.Result here = taskid(repo, "check");
        assertEquals(1, here.status(), here::toString);
        assertTrue(here.stdout().contains("TASKS.md:5:SEC-21: duplicate: "), here::toString);
        assertTrue(here.stdout().contains("TASKS.md:8:SEC-21: duplicate: "), here::toString);
        assertTrue(
                here.stdout().contains("TASKS.md:9:SEC-30: above-counter: above its counter (SEC at 24)"),
                here::toString);
        assertFalse(here.stdout().contains("conflict"), () -> "branches are only read with --all-refs\n" + here);

        Processes.Result all = taskid(repo, "check", "--all-refs");
        assertEquals(1, all.status(), all::toString);
        assertTrue(all.stdout().contains("TASKS.md:6:SEC-22: conflict: "), all::toString);
        assertTrue(all.stdout().contains("feature:TASKS.md:6:SEC-22: conflict: "), all::toString);
        assertTrue(all.stdout().contains("feature:TASKS.md:8:SEC-23: conflict: "), all::toString);
        assertTrue(all.stdout().contains(wt.toRealPath().resolve("TASKS.md") + ":8:SEC-23: conflict: "), all::toString);
        assertFalse(
                all.stdout().contains("SEC-21: conflict"),
                () -> "the same task on every branch is no conflict\n" + all);
        assertEquals(
                " M TASKS.md\n", git(repo, "status", "--porcelain").stdout(), "nothing checked out, nothing changed");
        assertEquals("main\n", git(repo, "branch", "--show-current").stdout());

        // From inside the linked worktree: the same state dir, the main worktree's edits seen as another place.
        Processes.Result fromWorktree = taskid(wt, "check", "--all-refs", "--json");
        assertEquals(1, fromWorktree.status(), fromWorktree::toString);
        assertTrue(fromWorktree.stdout().contains("{\"kind\":\"conflict\",\"id\":\"SEC-23\""), fromWorktree::toString);
        assertTrue(
                fromWorktree
                        .stdout()
                        .contains(
                                "\"file\":\"TASKS.md\",\"line\":8,\"id\":\"SEC-23\",\"title\":\"Unrelated billing bug\""),
                fromWorktree::toString);
    }

    @Test
    void fixOnlyRaisesCountersAndNeverTouchesTasks() throws IOException {
        assertEquals(0, taskid(repo, "set", "PERF", "50").status());
        append(repo.resolve("TASKS.md"), "| SEC-30 | Made up | | | | | |\n| SEC-22 | Fix auth twice | | | | | |\n");
        byte[] before = Files.readAllBytes(repo.resolve("TASKS.md"));

        Processes.Result fix = taskid(repo, "check", "--fix");
        assertEquals(1, fix.status(), () -> "the duplicate is still there: --fix does not renumber\n" + fix);
        assertTrue(fix.stdout().contains("raised SEC from 22 to 30"), fix::toString);
        assertFalse(fix.stdout().contains("raised PERF"), fix::toString);
        assertTrue(fix.stdout().contains("TASKS.md:6:SEC-22: duplicate"), fix::toString);
        assertEquals(new String(before, StandardCharsets.UTF_8), Files.readString(repo.resolve("TASKS.md")));
        Processes.Result show = taskid(repo, "show");
        assertTrue(
                show.stdout().contains("SEC      30") && show.stdout().contains("PERF     50"),
                () -> "SEC raised, PERF (above every ID seen) not lowered\n" + show);

        Processes.Result after = taskid(repo, "check");
        assertEquals(1, after.status(), after::toString);
        assertFalse(after.stdout().contains("above-counter"), after::toString);
    }

    @Test
    void theInstalledHookKeepsTheExistingHookAndBlocksCommitsWithCollisions() throws IOException {
        Path hook = repo.resolve(".git/hooks/pre-commit");
        Files.writeString(hook, "#!/bin/sh\necho existing-hook-ran\n");
        Path launcher = Processes.taskidScript(root.resolve("bin"));
        Map<String, String> env = Map.of("TASKID_LAUNCHER", launcher.toString());

        Processes.Result install = Processes.run(Processes.taskid("check", "--install-hook"), repo, env, TIMEOUT);
        assertEquals(0, install.status(), install::toString);
        String text = Files.readString(hook);
        assertTrue(
                text.startsWith(
                        "#!/bin/sh\n" + CheckCommand.HOOK_MARKER + "\n" + launcher + " check --staged || exit $?\n"),
                text);
        assertTrue(text.endsWith("echo existing-hook-ran\n"), text);
        assertTrue(Files.isExecutable(hook));
        Processes.Result twice = Processes.run(Processes.taskid("check", "--install-hook"), repo, env, TIMEOUT);
        assertEquals(0, twice.status(), twice::toString);
        assertEquals(text, Files.readString(hook), "a second install changes nothing");

        // Staged, then fixed in the work tree only: the commit would still hold the duplicate.
        append(repo.resolve("TASKS.md"), "| SEC-21 | Reused ID | | | | | |\n");
        git(repo, "add", "TASKS.md");
        Files.writeString(repo.resolve("TASKS.md"), TASKS);
        assertEquals(0, taskid(repo, "check").status(), "the work tree is fine");
        Processes.Result staged = taskid(repo, "check", "--staged");
        assertEquals(1, staged.status(), staged::toString);
        assertTrue(staged.stdout().contains("TASKS.md:8:SEC-21: duplicate"), staged::toString);
        Processes.Result blockedStaged =
                Processes.run(List.of("git", "commit", "-qm", "staged reuse"), repo, GIT_ENV, TIMEOUT);
        assertTrue(
                blockedStaged.status() != 0 && blockedStaged.stderr().contains("TASKS.md:8:SEC-21: duplicate"),
                blockedStaged::toString);

        append(repo.resolve("TASKS.md"), "| SEC-21 | Reused ID | | | | | |\n");
        List<String> commit = List.of("git", "commit", "-qam", "reuse");
        Processes.Result blocked = Processes.run(commit, repo, GIT_ENV, TIMEOUT);
        assertTrue(blocked.status() != 0, blocked::toString);
        // git shows a hook's output on its stderr
        assertTrue(blocked.stderr().contains("TASKS.md:8:SEC-21: duplicate"), blocked::toString);
        assertFalse(blocked.stderr().contains("existing-hook-ran"), blocked::toString);
        assertEquals(
                1,
                Integer.parseInt(
                        git(repo, "rev-list", "--count", "HEAD").stdout().trim()),
                "nothing committed");

        Files.writeString(repo.resolve("TASKS.md"), TASKS + "| SEC-20 | Reserved before | | | | | |\n");
        Processes.Result passes = Processes.run(commit, repo, GIT_ENV, TIMEOUT);
        assertEquals(0, passes.status(), passes::toString);
        assertTrue(passes.stderr().contains("existing-hook-ran"), passes::toString);

        Path fresh = root.resolve("fresh");
        Files.createDirectories(fresh);
        git(fresh, "init", "-q");
        Processes.Result first =
                Processes.run(Processes.taskid("check", "--all-refs", "--install-hook"), fresh, env, TIMEOUT);
        assertEquals(0, first.status(), first::toString);
        Path freshHook = fresh.resolve(".git/hooks/pre-commit");
        assertEquals(
                "#!/bin/sh\n" + CheckCommand.HOOK_MARKER + "\n" + launcher + " check --staged --all-refs || exit $?\n",
                Files.readString(freshHook));
        assertTrue(Files.isExecutable(freshHook));
    }
}
