package dev.taskid.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code taskid shim install/uninstall} in-process: files, backups, imports that never lower. */
class ShimInstallTest {
    @TempDir
    Path repo;

    private TaskIds ids;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void open() throws IOException {
        Files.createDirectories(repo.resolve(".git"));
        Files.writeString(repo.resolve("TASKS.md"), "| SEC-19 | a |\n| UX-66 | b |\n");
        ids = TaskIds.open(StateDir.locate(repo, null), TaskIds.Options.DEFAULT);
    }

    @AfterEach
    void close() {
        ids.close();
    }

    private int shim(String... words) {
        return withPrefix(null, words);
    }

    private int withPrefix(String prefix, String... words) {
        out.reset();
        err.reset();
        return Shims.command(
                List.of(words),
                prefix,
                ids,
                repo,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private long counter(String prefix) {
        return ((Response.Counters) ids.call(new Request.Peek(null, prefix)).response())
                .counters()
                .get(prefix);
    }

    private String read(String rel) throws IOException {
        return Files.readString(repo.resolve(rel), StandardCharsets.UTF_8);
    }

    @Test
    void installClaudeWritesBothScriptsBacksUpTheSeedsAndImportsCounters() throws IOException {
        Files.createDirectories(repo.resolve(".claude/scripts"));
        Files.writeString(repo.resolve(Shims.RESERVE_SCRIPT), "// the seed's own script\n");
        Files.writeString(
                repo.resolve(Shims.CLAUDE_COUNTERS), "{\"counters\":{\"SEC\":25,\"PERF\":12,\"UX\":3,\"FOO\":7}}");

        assertEquals(0, shim("install", "claude"), err::toString);
        for (String script : List.of(Shims.RESERVE_SCRIPT, Shims.INIT_SCRIPT)) {
            String text = read(script);
            assertTrue(text.startsWith("#!/usr/bin/env node\n"));
            assertTrue(text.contains(Shims.MARKER));
            assertFalse(text.contains("TASKID_INSTALLED"), "no installer's path: the script is committed and shared");
            assertFalse(text.contains("@@"), "no template placeholder left");
            assertTrue(Files.isExecutable(repo.resolve(script)));
        }
        assertEquals(
                "// the seed's own script\n",
                Files.readString(repo.resolve(".taskid/shim-backup/" + Shims.RESERVE_SCRIPT)),
                "the seed's script is kept");
        assertEquals(25, counter("SEC"), "raised from 19 (TASKS.md) to the seed's 25");
        assertEquals(12, counter("PERF"));
        assertEquals(66, counter("UX"), "never lowered to the seed's 3");
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("prefix FOO (7) is not configured"), err::toString);

        // Installing again: the scripts are ours now, no second backup.
        assertEquals(0, shim("install", "claude"), err::toString);
        try (var files = Files.list(repo.resolve(".taskid/shim-backup/.claude/scripts"))) {
            assertEquals(1, files.count());
        }

        assertEquals(0, shim("uninstall", "claude"), err::toString);
        assertEquals("// the seed's own script\n", read(Shims.RESERVE_SCRIPT), "uninstall puts the seed's script back");
        assertFalse(Files.exists(repo.resolve(Shims.INIT_SCRIPT)), "ours, with nothing to restore: removed");
        assertEquals(25, counter("SEC"), "uninstall never touches counters");
    }

    @Test
    void importNeverLowersACounterAlreadyAhead() throws IOException {
        ids.call(new Request.SetCounter(null, "SEC", 40, false));
        Files.createDirectories(repo.resolve(".claude"));
        Files.writeString(repo.resolve(Shims.CLAUDE_COUNTERS), "{\"counters\":{\"SEC\":25}}");
        assertEquals(0, shim("install", "claude"), err::toString);
        assertEquals(40, counter("SEC"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("SEC      → 40   (unchanged)"), out::toString);
    }

    @Test
    void aCorruptSeedCounterFileStopsTheInstall() throws IOException {
        Files.createDirectories(repo.resolve(".claude"));
        Files.writeString(repo.resolve(Shims.CLAUDE_COUNTERS), "{\"counters\":{\"SEC\":");
        assertEquals(5, shim("install", "claude"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("STATE_CORRUPT"), err::toString);
        assertFalse(Files.exists(repo.resolve(Shims.RESERVE_SCRIPT)));
    }

    @Test
    void installOpencodeWritesTheSubagentAndImportsTheSeedNumber() throws IOException {
        Files.createDirectories(repo.resolve(".opencode/specs"));
        Files.writeString(repo.resolve(Shims.OPENCODE_STATE), "{\"next_project_number\":42,\"projects\":[]}");
        assertEquals(0, withPrefix("OPS", "install", "opencode"), err::toString);
        String agent = read(Shims.OPENCODE_AGENT);
        assertTrue(agent.startsWith("---\ndescription: "), "frontmatter first");
        assertTrue(agent.contains("mode: subagent"));
        assertTrue(agent.contains("taskid reserve OPS COUNT --format seed001"));
        assertFalse(agent.contains("@@"));
        assertTrue(agent.contains(Shims.MARKER));
        assertEquals(41, counter("OPS"), "seed 001 would have handed out 42 next: so would taskid");

        assertEquals(0, shim("uninstall"), err::toString);
        assertFalse(Files.exists(repo.resolve(Shims.OPENCODE_AGENT)));
    }

    @Test
    void theSeedsOwnSubagentFileIsReplacedInPlaceAndRestored() throws IOException {
        Path seed = repo.resolve(".opencode/agent/subagents/atomic-task-numberer.md");
        Files.createDirectories(seed.getParent());
        Files.writeString(seed, "---\nmode: subagent\n---\n# Atomic Task Numberer\nmkdir lock...\n");
        assertEquals(0, shim("install", "opencode"), err::toString);
        assertTrue(Files.readString(seed).contains("taskid reserve DEV COUNT --format seed001"), "default prefix DEV");
        assertFalse(Files.exists(repo.resolve(Shims.OPENCODE_AGENT)), "no second subagent");
        assertEquals(0, shim("uninstall", "opencode"), err::toString);
        assertTrue(Files.readString(seed).contains("mkdir lock"));
    }

    @Test
    void uninstallLeavesFilesItDidNotWriteAlone() throws IOException {
        Files.createDirectories(repo.resolve(".claude/scripts"));
        Files.writeString(repo.resolve(Shims.RESERVE_SCRIPT), "// someone else's\n");
        assertEquals(0, shim("uninstall"));
        assertEquals("// someone else's\n", read(Shims.RESERVE_SCRIPT));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("left " + Shims.RESERVE_SCRIPT + " alone"));
    }

    @Test
    void usageErrors() {
        // Thrown for the CLI to report once (text, or JSON under --json; exit 2).
        for (List<String> words : List.<List<String>>of(
                List.of(), List.of("install"), List.of("install", "cursor"), List.of("uninstall", "everything"))) {
            assertThrows(
                    dev.taskid.cli.usage.UsageException.class,
                    () -> shim(words.toArray(String[]::new)),
                    words::toString);
        }
        assertThrows(
                dev.taskid.cli.usage.UsageException.class,
                () -> withPrefix("SEC", "install", "claude"),
                "--prefix is for opencode");
        assertThrows(dev.taskid.cli.usage.UsageException.class, () -> withPrefix("sec", "install", "opencode"));
    }
}
