package dev.taskid.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.StateDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackendConfigTest {
    @TempDir
    Path tmp;

    @Test
    void everySpellingOfOneRemoteIsOneProject() {
        for (String remote : new String[] {
            "git@github.com:org/repo.git",
            "https://github.com/org/repo",
            "https://github.com/Org/Repo.git/",
            "ssh://git@github.com:22/org/repo",
            "https://user@github.com/org/repo.git",
            "github.com:org/repo"
        }) {
            assertEquals("github.com/org/repo", BackendConfig.normalizeRemote(remote), remote);
        }
        assertEquals(
                "gitlab.example.com/group/sub/repo",
                BackendConfig.normalizeRemote("git@gitlab.example.com:group/sub/repo.git"));
    }

    @Test
    void noBackendMeansLocal() throws Exception {
        StateDir dir = StateDir.of(tmp.resolve(".taskid"));
        assertTrue(BackendConfig.load(dir, Map.of(), new Json()).isEmpty());
        assertTrue(BackendConfig.load(dir, Map.of("TASKID_BACKEND", "local"), new Json())
                .isEmpty());
    }

    @Test
    void theEnvironmentWinsAndTheProjectCanBeSet() throws Exception {
        Path state = tmp.resolve(".taskid");
        Files.createDirectories(state);
        Files.writeString(
                state.resolve("config.json"), "{\"backend\": {\"url\": \"postgresql://db/x\", \"project\": \"acme\"}}");
        BackendConfig c = BackendConfig.load(
                        StateDir.of(state), Map.of("TASKID_BACKEND", "postgresql://other/y"), new Json())
                .orElseThrow();
        assertEquals("postgresql://other/y", c.url());
        assertEquals("acme", c.project());
    }

    @Test
    void aPasswordInTheCommittedConfigIsRefused() throws Exception {
        Path state = tmp.resolve(".taskid");
        Files.createDirectories(state);
        Files.writeString(
                state.resolve("config.json"),
                "{\"backend\": {\"url\": \"postgresql://u:secret@db/x\", \"project\": \"p\"}}");
        TaskIdException e =
                assertThrows(TaskIdException.class, () -> BackendConfig.load(StateDir.of(state), Map.of(), new Json()));
        assertEquals(ErrorCode.CONFIG_INVALID, e.code());
        assertTrue(e.getMessage().contains("pgpass") && !e.getMessage().contains("secret"), e.getMessage());
    }

    @Test
    void withoutAnOriginTheProjectMustBeNamed() throws Exception {
        Path state = tmp.resolve(".taskid");
        Files.createDirectories(state);
        Files.writeString(state.resolve("config.json"), "{\"backend\": \"postgresql://db/x\"}");
        TaskIdException e =
                assertThrows(TaskIdException.class, () -> BackendConfig.load(StateDir.of(state), Map.of(), new Json()));
        assertEquals(ErrorCode.CONFIG_INVALID, e.code());
        assertTrue(e.getMessage().contains("project"), e.getMessage());
    }
}
