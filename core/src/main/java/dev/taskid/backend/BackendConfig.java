package dev.taskid.backend;

import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.Config;
import dev.taskid.state.StateDir;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A shared backend, when one is configured: {@code TASKID_BACKEND} (a URL), else the
 * {@value Config#BACKEND} key of {@code .taskid/config.json}, either a URL string or
 * {@code {"url": "postgresql://db.example/taskid", "project": "...", "acceptAsyncCommit": false,
 * "timeoutMs": 10000}}. The config file may be committed, so it must hold no password:
 * credentials come the PostgreSQL way (PGPASSWORD, ~/.pgpass, a service file).
 *
 * @param url        as given: {@code postgresql://...}, {@code postgres://...} or {@code jdbc:postgresql:...}
 * @param project    the key every row of this repository carries (many repositories share a database)
 * @param projectFrom where the project key came from, for doctor
 * @param acceptAsyncCommit start even when the server's synchronous_commit is off (a server crash may then lose acknowledged IDs)
 * @param timeout    the bound on connecting and on each statement; unreachable for longer is BACKEND_UNAVAILABLE
 */
public record BackendConfig(
        String url, String project, String projectFrom, boolean acceptAsyncCommit, Duration timeout) {
    public static final String ENV_URL = "TASKID_BACKEND";
    public static final String ENV_PROJECT = "TASKID_BACKEND_PROJECT";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    private static final Pattern PASSWORD_IN_URL =
            Pattern.compile("^[a-z:]+//[^/@?]*:[^/@?]*@|[?&]password=", Pattern.CASE_INSENSITIVE);
    private static final Pattern SCHEME =
            Pattern.compile("^(postgresql|postgres|jdbc:postgresql):", Pattern.CASE_INSENSITIVE);

    /**
     * The configured shared backend of {@code dir}, or empty for the local one. Reads the
     * config file only for its {@value Config#BACKEND} key ({@link Config} reads the rest).
     *
     * @throws TaskIdException CONFIG_INVALID for a malformed setting, a password in the file, or no project key
     */
    public static Optional<BackendConfig> load(StateDir dir, Map<String, String> env, Json json) {
        Map<String, Object> section = section(dir.config(), json);
        String envUrl = env.get(ENV_URL);
        String url = envUrl != null && !envUrl.isBlank() ? envUrl.trim() : (String) section.get("url");
        if (url == null || url.equalsIgnoreCase("local")) {
            return Optional.empty();
        }
        if (!SCHEME.matcher(url).find()) {
            throw invalid("the backend URL must start with postgresql://, postgres:// or jdbc:postgresql:, got "
                    + redact(url));
        }
        if ((envUrl == null || envUrl.isBlank()) && PASSWORD_IN_URL.matcher(url).find()) {
            throw invalid(dir.config() + " holds a password in the backend URL; that file may be committed: put the"
                    + " password in ~/.pgpass or PGPASSWORD instead");
        }
        Object accept = section.getOrDefault("acceptAsyncCommit", Boolean.FALSE);
        if (!(accept instanceof Boolean)) {
            throw invalid("backend.acceptAsyncCommit must be true or false");
        }
        Object timeoutMs = section.getOrDefault("timeoutMs", DEFAULT_TIMEOUT.toMillis());
        if (!(timeoutMs instanceof Long ms) || ms < 100 || ms > 600_000) {
            throw invalid("backend.timeoutMs must be an integer from 100 to 600000, got " + timeoutMs);
        }
        String project;
        String from;
        if (env.get(ENV_PROJECT) != null && !env.get(ENV_PROJECT).isBlank()) {
            project = env.get(ENV_PROJECT).trim();
            from = ENV_PROJECT;
        } else if (section.get("project") instanceof String p && !p.isBlank()) {
            project = p.trim();
            from = dir.config() + " backend.project";
        } else if (section.get("project") != null) {
            throw invalid("backend.project must be a non-empty string");
        } else {
            Optional<String> origin = originUrl(dir.projectRoot());
            if (origin.isEmpty()) {
                throw invalid("a shared backend needs a project key: this repository has no origin remote, so set"
                        + " \"backend\": {\"project\": \"NAME\"} in " + dir.config() + " (the same on every clone) or "
                        + ENV_PROJECT);
            }
            project = normalizeRemote(origin.get());
            from = "the origin remote " + redact(origin.get());
        }
        return Optional.of(
                new BackendConfig(url, project, from, (Boolean) accept, Duration.ofMillis((Long) timeoutMs)));
    }

    /**
     * One spelling per repository: {@code git@github.com:org/repo.git},
     * {@code https://github.com/org/repo} and {@code ssh://git@github.com:22/Org/Repo/} all
     * become {@code github.com/org/repo}. Case is folded: two spellings of one repository must
     * never become two projects (that would hand out the same IDs twice), while two
     * repositories whose names differ only in case sharing counters merely leaves gaps.
     */
    public static String normalizeRemote(String remote) {
        String s = remote.trim();
        Matcher url = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?([^/:]+)(?::\\d*)?(/.*)?$")
                .matcher(s);
        Matcher scp = Pattern.compile("^(?:[^@/]+@)?([^/:]+):(?!//)(.*)$").matcher(s);
        if (url.matches()) {
            s = url.group(1) + "/" + (url.group(2) == null ? "" : url.group(2));
        } else if (scp.matches()) {
            s = scp.group(1) + "/" + scp.group(2);
        }
        s = s.replaceAll("/+", "/");
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.endsWith(".git")) {
            s = s.substring(0, s.length() - 4);
        }
        s = s.replaceAll("^/+", "");
        return s.toLowerCase(Locale.ROOT);
    }

    /**
     * {@code git config --get remote.origin.url} in {@code root} (git itself, so that includes
     * and {@code insteadOf} rewrites count); empty without git, a repository or an origin.
     */
    private static Optional<String> originUrl(Path root) {
        try {
            Process git = new ProcessBuilder("git", "-C", root.toString(), "config", "--get", "remote.origin.url")
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            byte[] out = git.getInputStream().readNBytes(4096); // a URL; bounded
            if (!git.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                git.destroyForcibly();
                return Optional.empty();
            }
            String url = new String(out, java.nio.charset.StandardCharsets.UTF_8).trim();
            return git.exitValue() == 0 && !url.isEmpty() ? Optional.of(url) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // no git
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** The URL without a password, for messages and doctor. */
    public static String redact(String url) {
        return url.replaceAll("(//[^/@:?]*):[^/@?]*@", "$1:***@").replaceAll("([?&]password=)[^&]*", "$1***");
    }

    private static Map<String, Object> section(Path file, Json json) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Map.of();
        } catch (IOException e) {
            // AccessDeniedException's message is only the path; the cause lets callers say whose files these are
            String why = e instanceof AccessDeniedException ? "permission denied" : e.getMessage();
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot read " + file + ": " + why, Map.of("file", file.toString()), e);
        }
        Object value;
        try {
            value = json.readObject(bytes, 0, bytes.length).get(Config.BACKEND);
        } catch (JsonException e) {
            throw new TaskIdException(ErrorCode.CONFIG_INVALID, file + " is invalid: " + e.getMessage());
        }
        if (value == null) {
            return Map.of();
        }
        if (value instanceof String s) {
            return Map.of("url", s);
        }
        if (value instanceof Map<?, ?> m) {
            @SuppressWarnings("unchecked")
            Map<String, Object> section = (Map<String, Object>) m;
            for (String key : section.keySet()) {
                if (!java.util.Set.of("url", "project", "acceptAsyncCommit", "timeoutMs")
                        .contains(key)) {
                    throw invalid("unknown key backend." + key + " in " + file
                            + " (known: url, project, acceptAsyncCommit, timeoutMs)");
                }
            }
            if (section.get("url") != null && !(section.get("url") instanceof String)) {
                throw invalid("backend.url must be a string");
            }
            return section;
        }
        throw invalid(
                Config.BACKEND + " in " + file + " must be a URL string or an object {\"url\": ..., \"project\": ...}");
    }

    private static TaskIdException invalid(String message) {
        return new TaskIdException(ErrorCode.CONFIG_INVALID, message);
    }

    /** Describes where the truth lives, e.g. {@code postgresql://db/taskid (project github.com/org/repo)}. */
    public String describe() {
        return redact(url) + " (project " + project + ")";
    }
}
