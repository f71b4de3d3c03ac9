package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-user config ($XDG_CONFIG_HOME/taskid/config.json) and {@code taskid config show}:
 * preferences apply and say where they came from; keys that decide which IDs are handed out
 * are refused there (users of one repository must agree on them); unknown keys too. Real files,
 * real CLI processes.
 */
class UserConfigCliTest {
    @TempDir
    Path tmp;

    private Processes.Result taskid(CliRepo repo, Map<String, String> env, String... args) {
        return Processes.run(Processes.taskid(args), repo.root(), env, CliRepo.TIMEOUT);
    }

    @Test
    void preferencesApplyAndConfigShowNamesEachSource() throws Exception {
        CliRepo repo = CliRepo.in(tmp.resolve("repo"));
        Path xdg = tmp.resolve("xdg");
        Files.createDirectories(xdg.resolve("taskid"));
        Files.writeString(xdg.resolve("taskid/config.json"), "{\"lockTimeoutMs\": 1234, \"agent\": \"alice\"}");
        repo.write(".taskid/config.json", "{\"extraPrefixes\": [\"QA\"], \"lockTimeoutMs\": 999}");
        Map<String, String> env = Map.of("XDG_CONFIG_HOME", xdg.toString(), "TASKID_LOG_LEVEL", "WARN");

        assertEquals(0, taskid(repo, env, "reserve", "QA", "--purpose", "p").status());
        Processes.Result log = taskid(repo, env, "--json", "log", "QA-1");
        assertEquals(0, log.status(), log.toString());
        assertEquals("alice", CliRepo.object(log.stdout()).get("agent"), "the default --agent: " + log.stdout());

        Processes.Result show = taskid(repo, env, "--json", "config", "show");
        assertEquals(0, show.status(), show.toString());
        Map<String, Object> m = CliRepo.object(show.stdout());
        assertEquals(
                Map.of(
                        "value",
                        1234L,
                        "source",
                        "user",
                        "from",
                        xdg.resolve("taskid/config.json").toString()),
                m.get("lockTimeoutMs"),
                "the user's preference over the repository's 999");
        assertEquals("repository", field(m, "prefixes", "source"));
        assertTrue(((String) field(m, "prefixes", "value")).endsWith(" QA"), m.toString());
        assertEquals("default", field(m, "maxBatch", "source"));
        assertEquals("environment", field(m, "logLevel", "source"));
        assertEquals("WARN", field(m, "logLevel", "value"));
        assertEquals("alice", field(m, "agent", "value"));

        Processes.Result cli = taskid(repo, env, "--lock-timeout", "5", "--no-fallback", "config", "show");
        assertEquals(0, cli.status(), cli.toString());
        assertTrue(
                cli.stdout().lines().anyMatch(l -> l.matches("lockTimeoutMs: +5 +\\(command-line: --lock-timeout\\)")),
                cli.stdout());
        assertTrue(
                cli.stdout().lines().anyMatch(l -> l.matches("fallback: +false +\\(command-line: --no-fallback\\)")),
                cli.stdout());
        assertTrue(
                cli.stdout()
                        .lines()
                        .anyMatch(l -> l.matches("stateDir: +.*\\.taskid +\\(default: the repository's\\)")),
                cli.stdout());
    }

    @Test
    void allocationKeysAndUnknownKeysAreRefusedInTheUserFile() throws Exception {
        CliRepo repo = CliRepo.in(tmp.resolve("repo"));
        Path xdg = tmp.resolve("xdg");
        Files.createDirectories(xdg.resolve("taskid"));
        Map<String, String> env = Map.of("XDG_CONFIG_HOME", xdg.toString());
        for (String key : List.of("prefixes", "extraPrefixes", "prefixOptions", "backend", "allowedUids", "maxBatch")) {
            Files.writeString(xdg.resolve("taskid/config.json"), "{\"" + key + "\": null}");
            Processes.Result r = taskid(repo, env, "reserve", "SEC");
            assertEquals(5, r.status(), key + ": " + r);
            assertTrue(
                    r.stderr().contains("CONFIG_INVALID")
                            && r.stderr()
                                    .contains("\"" + key + "\" belongs in the repository's" + " .taskid/config.json"),
                    key + ": " + r.stderr());
            assertEquals("", r.stdout());
        }
        Files.writeString(xdg.resolve("taskid/config.json"), "{\"fallbak\": false}");
        Processes.Result typo = taskid(repo, env, "--json", "reserve", "SEC");
        assertEquals(5, typo.status(), typo.toString());
        assertEquals("CONFIG_INVALID", CliRepo.error(typo).get("code"));
        assertTrue(((String) CliRepo.error(typo).get("message")).contains("did you mean \"fallback\""), typo.stderr());
        assertTrue(Files.notExists(repo.state()), "nothing was handed out: " + repo.state());
        Processes.Result help = taskid(repo, env, "--help");
        assertEquals(0, help.status(), "help reads no preferences: " + help);

        Files.writeString(xdg.resolve("taskid/config.json"), "{\"fallback\": false}");
        Processes.Result noFallback = taskid(repo, env, "reserve", "SEC");
        assertEquals(7, noFallback.status(), "fallback false: no daemon is DAEMON_UNAVAILABLE: " + noFallback);
        assertTrue(noFallback.stderr().contains("DAEMON_UNAVAILABLE"), noFallback.stderr());
    }

    @SuppressWarnings("unchecked")
    private static Object field(Map<String, Object> m, String key, String field) {
        return ((Map<String, Object>) m.get(key)).get(field);
    }
}
