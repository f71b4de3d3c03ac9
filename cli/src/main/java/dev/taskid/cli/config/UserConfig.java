package dev.taskid.cli.config;

import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.Config;
import dev.taskid.state.Spelling;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The optional per-user file {@code $XDG_CONFIG_HOME/taskid/config.json} (default
 * {@code ~/.config/taskid/config.json}): this user's client-side preferences, e.g.
 * {@code {"lockTimeoutMs": 60000, "fallback": false, "agent": "alice", "json": true}}.
 *
 * <p>Nothing in it may change which IDs are handed out: users of one repository who disagreed
 * about prefixes, wrap or the backend would hand out the same IDs. Those keys belong in the
 * repository's config.json, and finding one here is CONFIG_INVALID saying so.
 */
public record UserConfig(
        Path file,
        boolean exists,
        Optional<Duration> lockTimeout,
        Optional<Boolean> fallback,
        Optional<String> agent,
        Optional<Boolean> json) {
    public static final List<String> KEYS = List.of("lockTimeoutMs", "fallback", "agent", "json");
    /** A preference file is a few lines; more is not one. */
    private static final int MAX_BYTES = 64 * 1024;

    private static final int MAX_AGENT = 200;

    /** Where the file is: XDG_CONFIG_HOME (when absolute, as the XDG spec says), else HOME/.config. */
    public static Path location(Map<String, String> env) {
        String xdg = env.get("XDG_CONFIG_HOME");
        Path base = xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()
                ? Path.of(xdg)
                : Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".config");
        return base.resolve("taskid").resolve("config.json");
    }

    /** Reads it; no file means no preferences. */
    public static UserConfig load(Map<String, String> env, Json codec) {
        Path file = location(env);
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            return new UserConfig(file, false, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot read " + file + ": " + e.getMessage());
        }
        if (bytes.length > MAX_BYTES) {
            throw invalid(file, "larger than " + MAX_BYTES + " bytes");
        }
        Map<String, Object> obj;
        try {
            obj = codec.readObject(bytes, 0, bytes.length);
        } catch (JsonException e) {
            throw invalid(file, e.getMessage());
        }
        for (String key : obj.keySet()) {
            if (Config.KEYS.contains(key) && !KEYS.contains(key)) {
                throw invalid(
                        file,
                        "\"" + key + "\" belongs in the repository's .taskid/config.json, not in a per-user"
                                + " file: every user of a repository must agree on it, or they would hand out the same IDs");
            }
            if (!KEYS.contains(key)) {
                throw invalid(
                        file,
                        "unknown key \"" + key + "\""
                                + Spelling.nearest(key, KEYS)
                                        .map(n -> "; did you mean \"" + n + "\"?")
                                        .orElse("") + " (known: " + String.join(", ", KEYS) + ")");
            }
        }
        Optional<Duration> lockTimeout = Optional.empty();
        if (obj.get("lockTimeoutMs") != null) {
            if (!(obj.get("lockTimeoutMs") instanceof Long ms) || ms < 0 || ms > 3_600_000) {
                throw invalid(file, "lockTimeoutMs must be a number of milliseconds from 0 to 3600000");
            }
            lockTimeout = Optional.of(Duration.ofMillis(ms));
        }
        Object agent = obj.get("agent");
        if (agent != null && (!(agent instanceof String a) || a.isEmpty() || a.length() > MAX_AGENT)) {
            throw invalid(file, "agent must be a name of 1 to " + MAX_AGENT + " characters");
        }
        return new UserConfig(
                file,
                true,
                lockTimeout,
                bool(obj, "fallback", file),
                Optional.ofNullable((String) agent),
                bool(obj, "json", file));
    }

    private static Optional<Boolean> bool(Map<String, Object> obj, String key, Path file) {
        Object v = obj.get(key);
        if (v != null && !(v instanceof Boolean)) {
            throw invalid(file, key + " must be true or false");
        }
        return Optional.ofNullable((Boolean) v);
    }

    private static TaskIdException invalid(Path file, String why) {
        return new TaskIdException(ErrorCode.CONFIG_INVALID, file + " is invalid: " + why);
    }
}
