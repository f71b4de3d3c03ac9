package dev.taskid.backend;

import dev.taskid.json.Json;
import dev.taskid.state.AuditEntry;
import dev.taskid.state.AuditReader;
import dev.taskid.state.Config;
import dev.taskid.state.StateDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Where {@code taskid log} and {@code stats} read a repository's history: the local audit log,
 * or, when a shared backend is configured, that backend's audit rows (every host's, because
 * the counters are shared too). Read-only; never takes the state lock.
 */
public interface AuditTrail extends AutoCloseable {
    /**
     * Hands every readable entry whose raw line passes {@code lineFilter} (a cheap test) to
     * {@code sink}, oldest first; returns how many lines were unreadable.
     *
     * @throws dev.taskid.protocol.TaskIdException SYSTEM_ERROR (a file), BACKEND_UNAVAILABLE (the backend)
     */
    int read(Predicate<String> lineFilter, Consumer<AuditEntry> sink);

    /** Where the entries live, for stats: local {@code files} and {@code bytes}, or the shared {@code backend} and {@code project}. */
    Map<String, Object> where();

    @Override
    void close();

    /** Opens the trail of {@code dir}, reads it as {@link #read} does, and closes it. */
    static int read(
            StateDir dir, Map<String, String> env, Json json, Predicate<String> lineFilter, Consumer<AuditEntry> sink) {
        try (AuditTrail trail = open(dir, env, json)) {
            return trail.read(lineFilter, sink);
        }
    }

    /** The trail of {@code dir}: the shared backend's when one is configured (env as the client reads it), else the local log. */
    static AuditTrail open(StateDir dir, Map<String, String> env, Json json) {
        Optional<BackendConfig> shared = BackendConfig.load(dir, env, json);
        if (shared.isEmpty()) {
            return local(dir.dir(), json);
        }
        RemoteBackend backend =
                Backends.open(shared.get(), Config.load(dir.config(), json), Clock.systemUTC(), "taskid-cli");
        return new AuditTrail() {
            @Override
            public int read(Predicate<String> lineFilter, Consumer<AuditEntry> sink) {
                return backend.readAudit(lineFilter, sink);
            }

            @Override
            public Map<String, Object> where() {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("backend", BackendConfig.redact(shared.get().url()));
                m.put("project", shared.get().project());
                return m;
            }

            @Override
            public void close() {
                backend.close();
            }
        };
    }

    /** The audit log files of the state directory {@code dir}. */
    static AuditTrail local(Path dir, Json json) {
        return new AuditTrail() {
            @Override
            public int read(Predicate<String> lineFilter, Consumer<AuditEntry> sink) {
                return AuditReader.read(dir, json, lineFilter, sink);
            }

            @Override
            public Map<String, Object> where() {
                List<Path> files = AuditReader.files(dir);
                long bytes = 0;
                for (Path f : files) {
                    try {
                        bytes += Files.size(f);
                    } catch (IOException e) {
                        // rotated away meanwhile
                    }
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("files", files.size());
                m.put("bytes", bytes);
                return m;
            }

            @Override
            public void close() {}
        };
    }
}
