package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.json.Json;
import dev.taskid.state.StateFile;
import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real disk faults under the CLI: a read-only state directory (EROFS) and a full one (ENOSPC
 * on a 64 KiB tmpfs). Root ignores file modes, so the faults are mounts, made inside
 * {@code unshare -m}: they are private to one shell and its taskid calls and vanish with them.
 * Each scenario is one shell script that records every call's stdout, stderr and status in
 * {@code out/}, which is outside the mounts and read here afterwards.
 */
class DiskFaultCliTest {
    @TempDir
    Path tmp;

    private CliRepo repo;
    private Path out;
    private Path taskid;

    @BeforeEach
    void setUp() throws Exception {
        out = Files.createDirectories(tmp.resolve("out"));
        taskid = Processes.taskidScript(tmp.resolve("bin"));
        Path probe = Files.createDirectories(tmp.resolve("probe"));
        Processes.Result r = Processes.run(
                List.of("unshare", "-m", "mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", probe.toString()),
                tmp,
                Map.of(),
                CliRepo.TIMEOUT);
        Assumptions.assumeTrue(r.status() == 0, "skipped: needs unshare -m and mount rights (root): " + r);
        repo = CliRepo.in(Files.createDirectories(tmp.resolve("repo")));
        Files.createDirectories(repo.state());
    }

    /** Runs {@code script} in a private mount namespace, with $S the state dir, $O out/, and step(). */
    private void privately(String script) {
        String prelude =
                "set -u\nstep() { n=$1; shift; \"$@\" >\"$O/$n.out\" 2>\"$O/$n.err\"; echo $? >\"$O/$n.rc\"; }\n" + "T="
                        + taskid + "\n";
        Processes.Result r = Processes.run(
                List.of("unshare", "-m", "sh", "-c", prelude + script),
                repo.root(),
                Map.of("S", repo.state().toString(), "O", out.toString()),
                CliRepo.TIMEOUT);
        assertEquals(0, r.status(), r.toString());
    }

    private Processes.Result step(String name) throws Exception {
        return new Processes.Result(
                Integer.parseInt(Files.readString(out.resolve(name + ".rc")).trim()),
                Files.readString(out.resolve(name + ".out")),
                Files.readString(out.resolve(name + ".err")));
    }

    @Test
    void readOnlyStateDirIsASystemErrorAndChangesNothing() throws Exception {
        assertEquals(0, repo.taskid("reserve", "SEC", "2").status());
        byte[] before = Files.readAllBytes(repo.counters());
        privately("mount --bind \"$S\" \"$S\" && mount -o remount,bind,ro \"$S\" || exit 90\n"
                + "step dir \"$T\" --json reserve SEC\n"
                // the lock file alone writable: the lock is taken and the save itself fails
                + "mount --bind \"$S/lock\" \"$S/lock\" && mount -o remount,bind,rw \"$S/lock\" || exit 91\n"
                + "step save \"$T\" --json reserve SEC 3\n"
                + "step show \"$T\" show SEC\n");

        for (String name : List.of("dir", "save")) {
            Processes.Result r = step(name);
            assertEquals(6, r.status(), name + ": " + r);
            assertEquals("", r.stdout(), name + ": " + r);
            assertEquals("SYSTEM_ERROR", CliRepo.error(r).get("code"), name + ": " + r);
            assertTrue(r.stderr().contains("Read-only file system"), name + ": " + r);
        }
        assertTrue(((String) CliRepo.error(step("save")).get("message")).contains("the file is unchanged"));
        assertEquals("SEC      2\n", step("show").stdout(), "reading still works: " + step("show"));
        assertArrayEquals(before, Files.readAllBytes(repo.counters()));
        assertEquals(
                List.of("SEC-3"),
                CliRepo.object(repo.taskid("reserve", "SEC").stdout()).get("ids"),
                "writable again: no number was used up");
    }

    @Test
    void fullDiskIsASystemErrorKeepsTheOldFileAndContinuesWithoutAGapOnceFreed() throws Exception {
        privately("mount -t tmpfs -o size=64k,mode=0700 tmpfs \"$S\" || exit 90\n"
                + "step first \"$T\" reserve SEC 3\n"
                + "cp \"$S/counters.json\" \"$O/before.json\"\n"
                + "head -c 1048576 /dev/zero >\"$S/filler\" 2>/dev/null\n"
                + "step full \"$T\" --json reserve SEC 2\n"
                + "step fullshow \"$T\" show SEC\n"
                + "cp \"$S/counters.json\" \"$O/after.json\"\n"
                + "ls -a \"$S\" >\"$O/ls\"\n"
                + "rm \"$S/filler\"\n"
                + "step freed \"$T\" reserve SEC 2\n"
                + "cp \"$S/counters.json\" \"$O/final.json\"\n");

        Processes.Result first = step("first");
        assertEquals(0, first.status(), first.toString());
        assertEquals(
                List.of("SEC-1", "SEC-2", "SEC-3"),
                CliRepo.object(first.stdout()).get("ids"));

        Processes.Result full = step("full");
        assertEquals(6, full.status(), full.toString());
        assertEquals("", full.stdout(), full.toString());
        assertEquals("SYSTEM_ERROR", CliRepo.error(full).get("code"), full.toString());
        assertTrue(full.stderr().contains("No space left on device"), full.toString());
        assertArrayEquals(
                Files.readAllBytes(out.resolve("before.json")),
                Files.readAllBytes(out.resolve("after.json")),
                "the old counters.json is intact");
        assertEquals(
                3L,
                new StateFile(out.resolve("after.json"), new Json(), Clock.systemUTC())
                        .read()
                        .orElseThrow()
                        .counters()
                        .get("SEC"),
                "and readable");
        assertEquals(
                "SEC      3\n", step("fullshow").stdout(), "readable by taskid on the full disk: " + step("fullshow"));
        assertFalse(
                Files.readString(out.resolve("ls")).contains(".tmp"),
                "no half-written temp file left (counters.json.<pid>.tmp)");

        Processes.Result freed = step("freed");
        assertEquals(0, freed.status(), freed.toString());
        assertEquals(List.of("SEC-4", "SEC-5"), CliRepo.object(freed.stdout()).get("ids"), "no gap, no duplicate");
        assertEquals(
                5L,
                new StateFile(out.resolve("final.json"), new Json(), Clock.systemUTC())
                        .read()
                        .orElseThrow()
                        .counters()
                        .get("SEC"));
    }
}
