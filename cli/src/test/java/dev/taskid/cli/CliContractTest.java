package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What callers of the CLI rely on, in the file-lock mode (no daemon): the output shapes on
 * stdout, diagnostics on stderr, the documented exit statuses (README "Exit status"), and
 * what each state command does to the counters. Every call is a real JVM in a fresh repository.
 */
class CliContractTest {
    private static final String STAMP = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?Z";
    private static final List<String> DEFAULT_PREFIXES = List.of(
            "SEC", "PERF", "UX", "TEST", "DEV", "ARCH", "FIN", "DRY", "DOC", "DS", "MKT", "CNT", "INFRA", "OPS");

    @TempDir
    Path tmp;

    @Test
    void firstReserveScansTasksMdAndPrintsSeed000sShape() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        repo.write("TASKS.md", "| ID | Title |\n|---|---|\n| SEC-19 | old |\n| UX-66 | ui |\n- PERF-12 slow\n");

        Processes.Result first = repo.taskid("reserve", "SEC", "2");
        assertEquals(0, first.status(), first.toString());
        assertTrue(
                first.stdout().matches("\\{\"ids\":\\[\"SEC-20\",\"SEC-21\"],\"reservedAt\":\"" + STAMP + "\"}\n"),
                "exactly one line in seed 000's shape: " + first.stdout());
        Instant.parse((String) CliRepo.object(first.stdout()).get("reservedAt"));
        assertTrue(
                first.stderr().contains("created")
                        && first.stderr().contains("TASKS.md")
                        && first.stderr().contains("SEC -> 19")
                        && first.stderr().contains("UX -> 66"),
                "first use says what it did, on stderr: " + first.stderr());

        Processes.Result verbose = repo.taskid("reserve", "SEC", "--verbose");
        assertEquals(0, verbose.status(), verbose.toString());
        assertEquals("", verbose.stderr(), "the counters exist now: nothing to say");
        Map<String, Object> v = CliRepo.object(verbose.stdout());
        assertEquals(
                List.of(
                        "ids",
                        "reservedAt",
                        "prefix",
                        "numbers",
                        "previous",
                        "counter",
                        "next",
                        "replayed",
                        "mode",
                        "lockWaitMs"),
                new ArrayList<>(v.keySet()));
        assertEquals(List.of("SEC-22"), v.get("ids"));
        assertEquals("SEC", v.get("prefix"));
        assertEquals(List.of(22L), v.get("numbers"));
        assertEquals(21L, v.get("previous"));
        assertEquals(22L, v.get("counter"));
        assertEquals(23L, v.get("next"));
        assertEquals(false, v.get("replayed"));
        assertEquals("fallback", v.get("mode"), "no daemon runs: the file lock");
        assertInstanceOf(Long.class, v.get("lockWaitMs"));

        Processes.Result seed001 = repo.taskid("reserve", "SEC", "3", "--format", "seed001");
        assertEquals(0, seed001.status(), seed001.toString());
        assertEquals(1, seed001.stdout().lines().count(), seed001.stdout());
        Map<String, Object> s = CliRepo.object(seed001.stdout());
        assertEquals(
                List.of(
                        "status",
                        "allocated_numbers",
                        "allocation_count",
                        "previous_next_number",
                        "new_next_number",
                        "lock_acquired",
                        "lock_duration_ms",
                        "timestamp"),
                new ArrayList<>(s.keySet()));
        assertEquals("success", s.get("status"));
        assertEquals(List.of(23L, 24L, 25L), s.get("allocated_numbers"));
        assertEquals(3L, s.get("allocation_count"));
        assertEquals(23L, s.get("previous_next_number"));
        assertEquals(26L, s.get("new_next_number"));
        assertTrue(((String) s.get("timestamp")).matches(STAMP), s.toString());
        assertEquals(25L, repo.counter("SEC"));
    }

    @Test
    void badInputGetsItsStableCodeOnStderrAndChangesNothing() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        assertEquals(0, repo.taskid("reserve", "SEC").status());
        byte[] before = Files.readAllBytes(repo.counters());

        List<List<String>> commands = new ArrayList<>();
        for (String count : List.of("0", "-1", "1.5", "1000000000000", "1001")) {
            commands.add(List.of("reserve", "SEC", count));
            commands.add(List.of("--json", "reserve", "SEC", count));
        }
        commands.add(List.of("reserve", "BAD", "1"));
        commands.add(List.of("--json", "reserve", "sec"));
        commands.add(List.of("reserve"));
        commands.add(List.of("frobnicate"));
        List<Processes.Result> results = repo.taskidEach(commands);

        for (int i = 0; i < 10; i++) {
            Processes.Result r = results.get(i);
            String what = commands.get(i) + ": " + r;
            assertEquals(3, r.status(), what);
            assertEquals("", r.stdout(), what);
            if (i % 2 == 0) {
                assertTrue(r.stderr().startsWith("taskid: INVALID_COUNT: "), what);
            } else {
                assertEquals("INVALID_COUNT", CliRepo.error(r).get("code"), what);
                assertEquals(1, r.stderr().lines().count(), "one JSON line: " + what);
            }
        }
        Processes.Result badPrefix = results.get(10);
        assertEquals(3, badPrefix.status(), badPrefix.toString());
        assertTrue(badPrefix.stderr().startsWith("taskid: INVALID_PREFIX: "), badPrefix.toString());
        assertTrue(
                badPrefix.stderr().contains(String.join(", ", DEFAULT_PREFIXES)), "lists the valid ones: " + badPrefix);
        Processes.Result lower = results.get(11);
        assertEquals(3, lower.status(), lower.toString());
        assertEquals("INVALID_PREFIX", CliRepo.error(lower).get("code"));
        @SuppressWarnings("unchecked")
        Map<String, Object> details = (Map<String, Object>) CliRepo.error(lower).get("details");
        assertEquals(DEFAULT_PREFIXES, details.get("valid"));
        assertEquals(2, results.get(12).status(), "usage error: " + results.get(12));
        assertTrue(
                results.get(12).stderr().contains("usage: taskid reserve PREFIX"),
                results.get(12).toString());
        assertEquals(2, results.get(13).status(), "unknown command: " + results.get(13));

        for (Processes.Result r : results) {
            assertEquals("", r.stdout(), "errors never go to stdout: " + r);
        }
        assertArrayEquals(before, Files.readAllBytes(repo.counters()), "bad input changes nothing");
        Processes.Result next = repo.taskid("reserve", "SEC");
        assertEquals(List.of("SEC-2"), CliRepo.object(next.stdout()).get("ids"), "bad input used up no number");
    }

    @Test
    void everyCommandHasHelpThatExitsZero() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        List<String> names = List.of(
                "reserve",
                "init",
                "show",
                "prefixes",
                "validate",
                "set",
                "import",
                "archive",
                "daemon",
                "systemd",
                "mcp",
                "shim",
                "help");
        List<List<String>> commands = new ArrayList<>();
        names.forEach(n -> commands.add(List.of(n, "--help")));
        commands.add(List.of("--help"));
        List<Processes.Result> results = repo.taskidEach(commands);
        for (int i = 0; i < commands.size(); i++) {
            Processes.Result r = results.get(i);
            assertEquals(0, r.status(), commands.get(i) + ": " + r);
            assertEquals("", r.stderr(), commands.get(i) + ": " + r);
            assertTrue(r.stdout().contains("usage: taskid"), commands.get(i) + ": " + r);
            if (i < names.size()) {
                assertTrue(r.stdout().contains(" " + names.get(i)), commands.get(i) + ": " + r);
            }
        }
        assertTrue(results.get(names.size()).stdout().contains("exit status:"), "the top-level help documents exits");
        assertTrue(Files.notExists(repo.state()), "--help touches no state");
        Processes.Result none = repo.taskid();
        assertEquals(2, none.status(), "no command is a usage error: " + none);
    }

    @Test
    void initRaisesPerPrefixNeverLowersAndIsIdempotent() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        repo.write("TASKS.md", "| SEC-19 | a |\n| SEC-7 | b |\n| UX-66 | c |\n`PERF-12` and sec-99 and XYZ-500\n");
        repo.write("docs/more.md", "- SEC-40 later\n");

        Processes.Result init = repo.taskid("init");
        assertEquals(0, init.status(), init.toString());
        assertTrue(init.stdout().contains("Initialized counters from 4 tasks in TASKS.md"), init.stdout());
        assertTrue(init.stdout().contains("SEC      → 19"), init.stdout());
        assertTrue(init.stdout().contains("UX       → 66"), init.stdout());
        assertTrue(init.stdout().contains("PERF     → 12"), init.stdout());
        byte[] once = Files.readAllBytes(repo.counters());

        Processes.Result again = repo.taskid("init");
        assertEquals(0, again.status(), again.toString());
        assertEquals(
                3, again.stdout().lines().filter(l -> l.endsWith("(unchanged)")).count(), again.stdout());
        assertArrayEquals(once, Files.readAllBytes(repo.counters()), "idempotent");

        Processes.Result more = repo.taskid("init", "docs/more.md", "TASKS.md");
        assertEquals(0, more.status(), more.toString());
        assertTrue(more.stdout().contains("SEC      → 40   (was 19)"), more.stdout());
        assertEquals(40L, repo.counter("SEC"));

        Processes.Result back = repo.taskid("init");
        assertEquals(0, back.status(), back.toString());
        assertEquals(40L, repo.counter("SEC"), "init never lowers");
        assertEquals(66L, repo.counter("UX"));
        assertEquals(0L, repo.counter("DEV"));
    }

    @Test
    void showPrefixesValidateAndSet() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        assertEquals(0, repo.taskid("reserve", "SEC", "5").status());

        List<Processes.Result> r = repo.taskidEach(List.of(
                List.of("show", "SEC"),
                List.of("show", "--json"),
                List.of("prefixes"),
                List.of("validate", "SEC-1", "SEC-5"),
                List.of("validate", "SEC-5", "SEC-6"),
                List.of("validate", "SEC-x", "BAD-1"),
                List.of("set", "SEC", "3")));
        assertEquals(0, r.get(0).status(), r.get(0).toString());
        assertEquals("SEC      5\n", r.get(0).stdout());
        @SuppressWarnings("unchecked")
        Map<String, Object> counters =
                (Map<String, Object>) CliRepo.object(r.get(1).stdout()).get("counters");
        assertEquals(5L, counters.get("SEC"));
        assertEquals(0L, counters.get("UX"));
        assertEquals(
                String.join("\n", new java.util.TreeSet<>(DEFAULT_PREFIXES)) + "\n",
                r.get(2).stdout());
        assertEquals(0, r.get(3).status(), "both issued: " + r.get(3));
        assertEquals(1, r.get(4).status(), "SEC-6 was not issued: " + r.get(4));
        assertTrue(r.get(4).stdout().contains("SEC-6 NOT issued"), r.get(4).toString());
        assertEquals(1, r.get(5).status(), "not IDs at all are not issued either: " + r.get(5));
        assertEquals(
                "SEC-x NOT issued: not a task ID (expected PREFIX-NUMBER, e.g. SEC-20)\n"
                        + "BAD-1 NOT issued: unknown prefix BAD\n",
                r.get(5).stdout());
        assertEquals(ErrorCode.COUNTER_DECREASE.exitStatus(), r.get(6).status(), "lowering needs --force: " + r.get(6));
        assertTrue(
                r.get(6).stderr().contains("COUNTER_DECREASE")
                        && r.get(6).stderr().contains("--force"),
                r.get(6).toString());
        assertEquals(5L, repo.counter("SEC"));

        Processes.Result raise = repo.taskid("set", "SEC", "9");
        assertEquals(0, raise.status(), raise.toString());
        assertEquals("SEC: 5 -> 9\n", raise.stdout());
        assertEquals("", raise.stderr(), "raising is safe: no warning");

        Processes.Result forced = repo.taskid("set", "SEC", "3", "--force");
        assertEquals(0, forced.status(), forced.toString());
        assertTrue(
                forced.stderr().contains("warning")
                        && forced.stderr().contains("SEC-4 to SEC-9 will be handed out again"),
                forced.toString());
        assertEquals(
                List.of("SEC-4"),
                CliRepo.object(repo.taskid("reserve", "SEC").stdout()).get("ids"),
                "the lowered counter is the one used");
    }

    @Test
    void importReadsBothSeedsStateFilesAndNeverLowers() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        repo.write("TASKS.md", "| UX-66 | c |\n");
        repo.write(".claude/.task-id-counters.json", "{\"counters\":{\"SEC\":40,\"UX\":3,\"PERF\":7}}");
        repo.write(".opencode/specs/state.json", "{\"next_project_number\":42,\"active_projects\":[]}");

        Processes.Result noPrefix = repo.taskid("import");
        assertEquals(0, noPrefix.status(), noPrefix.toString());
        assertTrue(
                noPrefix.stderr().contains("--opencode-prefix"), "says why the opencode file was skipped: " + noPrefix);
        assertEquals(40L, repo.counter("SEC"));
        assertEquals(66L, repo.counter("UX"), "TASKS.md said 66; the seed's 3 does not lower it");
        assertEquals(7L, repo.counter("PERF"));
        assertEquals(0L, repo.counter("DEV"));

        Processes.Result both = repo.taskid("import", "--opencode-prefix", "DEV");
        assertEquals(0, both.status(), both.toString());
        assertEquals(41L, repo.counter("DEV"), "next_project_number 42 = 41 issued");
        assertEquals(
                List.of("DEV-42"),
                CliRepo.object(repo.taskid("reserve", "DEV").stdout()).get("ids"));

        repo.write(".claude/.task-id-counters.json", "{\"counters\":{\"SEC\":1}}");
        repo.write(".opencode/specs/state.json", "{\"next_project_number\":1}");
        byte[] before = Files.readAllBytes(repo.counters());
        Processes.Result stale = repo.taskid("import", "--opencode-prefix", "DEV");
        assertEquals(0, stale.status(), stale.toString());
        assertEquals(40L, repo.counter("SEC"), "never lowers");
        assertEquals(42L, repo.counter("DEV"), "never lowers");
        assertArrayEquals(before, Files.readAllBytes(repo.counters()));
    }
}
