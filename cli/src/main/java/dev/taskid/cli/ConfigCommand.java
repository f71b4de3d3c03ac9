package dev.taskid.cli;

import dev.taskid.backend.BackendConfig;
import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.config.UserConfig;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.TaskIds;
import dev.taskid.json.JsonException;
import dev.taskid.state.Config;
import dev.taskid.state.StateDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code taskid config show}: every setting in effect and where it came from (built-in
 * default, the repository's config.json, the per-user config, the environment, the command
 * line), so that "why does it wait 60 s" or "which backend is this" has one answer.
 */
final class ConfigCommand implements Command {
    /** Where a value came from, as {@code --json} names it. */
    enum Source {
        DEFAULT("default"),
        REPOSITORY("repository"),
        USER("user"),
        ENVIRONMENT("environment"),
        COMMAND_LINE("command-line");

        final String word;

        Source(String word) {
            this.word = word;
        }
    }

    /** One setting: its value and where it came from ({@code detail}: which file, variable or option). */
    record Setting(String key, Object value, Source source, String detail) {}

    private static final Spec SPEC = new Spec(
            "config",
            "config show [--json]",
            "Show the effective configuration and where each value came from: built-in default, the repository's\n"
                    + "config.json, the per-user config ($XDG_CONFIG_HOME/taskid/config.json: lockTimeoutMs, fallback, agent,\n"
                    + "json only), environment variables (TASKID_DIR, TASKID_BACKEND, ...) or the command line.");

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        if (c.rest().size() != 1 || !c.rest().get(0).equals("show")) {
            throw new UsageException("config takes show");
        }
        List<Setting> settings = settings(c);
        if (c.json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Setting s : settings) {
                Map<String, Object> v = new LinkedHashMap<>();
                v.put("value", s.value());
                v.put("source", s.source().word);
                v.put("from", s.detail());
                m.put(s.key(), v);
            }
            c.output().object(m);
        } else {
            for (Setting s : settings) {
                c.out()
                        .printf(
                                "%-18s %-40s %s%n",
                                s.key() + ":",
                                String.valueOf(s.value()),
                                "(" + s.source().word + (s.detail() == null ? "" : ": " + s.detail()) + ")");
            }
        }
        return Context.OK;
    }

    private static List<Setting> settings(Context c) {
        TaskIds ids = c.ids();
        StateDir dir = ids.stateDir();
        Path repoFile = dir.config();
        Map<String, Object> repo = repositoryKeys(c, repoFile);
        Config config = Config.load(repoFile, c.output().codec());
        UserConfig user = c.user();
        String userFile = user.file().toString();
        Map<String, String> env = c.env();

        List<Setting> s = new ArrayList<>();
        s.add(
                c.option("--dir") != null
                        ? new Setting("stateDir", dir.dir().toString(), Source.COMMAND_LINE, "--dir")
                        : nonEmpty(env, "TASKID_DIR")
                                ? new Setting("stateDir", dir.dir().toString(), Source.ENVIRONMENT, "TASKID_DIR")
                                : new Setting(
                                        "stateDir",
                                        dir.dir().toString(),
                                        Source.DEFAULT,
                                        dir.guessed() ? "no git repository found" : "the repository's"));
        s.add(new Setting(
                "repositoryConfig", repoFile.toString(), Source.DEFAULT, Files.exists(repoFile) ? "exists" : "absent"));
        s.add(new Setting(
                "userConfig",
                userFile,
                nonEmpty(env, "XDG_CONFIG_HOME") ? Source.ENVIRONMENT : Source.DEFAULT,
                (nonEmpty(env, "XDG_CONFIG_HOME") ? "XDG_CONFIG_HOME, " : "") + (user.exists() ? "exists" : "absent")));
        Optional<BackendConfig> backend = ids.backend();
        s.add(
                backend.isEmpty()
                        ? new Setting("backend", "local files", Source.DEFAULT, null)
                        : nonEmpty(env, BackendConfig.ENV_URL)
                                ? new Setting(
                                        "backend",
                                        BackendConfig.redact(backend.get().url()),
                                        Source.ENVIRONMENT,
                                        BackendConfig.ENV_URL)
                                : new Setting(
                                        "backend",
                                        BackendConfig.redact(backend.get().url()),
                                        Source.REPOSITORY,
                                        repoFile.toString()));
        s.add(fromRepository(
                "prefixes", String.join(" ", config.prefixes()), repo, repoFile, "prefixes", "extraPrefixes"));
        s.add(fromRepository("maxBatch", config.maxBatch(), repo, repoFile, "maxBatch"));
        Map<String, Object> prefixOptions = new TreeMap<>();
        config.prefixOptions()
                .forEach(
                        (p, o) -> prefixOptions.put(p, Map.of("width", o.width(), "wrap", o.wrap(), "bare", o.bare())));
        s.add(fromRepository("prefixOptions", prefixOptions, repo, repoFile, "prefixOptions"));
        s.add(fromRepository(
                "allowedUids", List.copyOf(new TreeSet<>(config.allowedUids())), repo, repoFile, "allowedUids"));
        s.add(fromRepository(
                "audit",
                Map.of(
                        "maxBytes",
                        config.audit().maxBytes(),
                        "keep",
                        config.audit().keep()),
                repo,
                repoFile,
                "audit"));
        String lockOption = c.option("--lock-timeout");
        s.add(
                lockOption != null
                        ? new Setting(
                                "lockTimeoutMs",
                                Context.integer(lockOption, "--lock-timeout"),
                                Source.COMMAND_LINE,
                                "--lock-timeout")
                        : user.lockTimeout().isPresent()
                                ? new Setting(
                                        "lockTimeoutMs",
                                        user.lockTimeout().get().toMillis(),
                                        Source.USER,
                                        userFile)
                                : fromRepository(
                                        "lockTimeoutMs",
                                        config.lockTimeout().toMillis(),
                                        repo,
                                        repoFile,
                                        "lockTimeoutMs"));
        s.add(
                c.flag("--no-fallback")
                        ? new Setting("fallback", false, Source.COMMAND_LINE, "--no-fallback")
                        : user.fallback().isPresent()
                                ? new Setting("fallback", user.fallback().get(), Source.USER, userFile)
                                : new Setting("fallback", true, Source.DEFAULT, null));
        s.add(
                user.agent().isPresent()
                        ? new Setting("agent", user.agent().get(), Source.USER, userFile)
                        : new Setting("agent", null, Source.DEFAULT, "reserve --agent"));
        s.add(
                c.options().flag("--json")
                        ? new Setting("json", true, Source.COMMAND_LINE, "--json")
                        : user.json().isPresent()
                                ? new Setting("json", user.json().get(), Source.USER, userFile)
                                : new Setting("json", false, Source.DEFAULT, null));
        s.add(fromEnvironment(env, "connectTimeoutMs", "TASKID_CONNECT_TIMEOUT_MS", "2000"));
        s.add(fromEnvironment(env, "logLevel", "TASKID_LOG_LEVEL", "INFO"));
        return s;
    }

    /** The keys the repository's file sets (the file as written, not the defaults filled in). */
    private static Map<String, Object> repositoryKeys(Context c, Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            return c.output().codec().readObject(bytes, 0, bytes.length);
        } catch (NoSuchFileException e) {
            return Map.of();
        } catch (IOException | JsonException e) {
            return Map.of(); // Config.load reports it
        }
    }

    private static Setting fromRepository(
            String key, Object value, Map<String, Object> repo, Path file, String... keys) {
        for (String k : keys) {
            if (repo.containsKey(k)) {
                return new Setting(key, value, Source.REPOSITORY, file.toString());
            }
        }
        return new Setting(key, value, Source.DEFAULT, null);
    }

    private static Setting fromEnvironment(Map<String, String> env, String key, String variable, String fallback) {
        return nonEmpty(env, variable)
                ? new Setting(key, env.get(variable), Source.ENVIRONMENT, variable)
                : new Setting(key, fallback, Source.DEFAULT, variable + " unset");
    }

    private static boolean nonEmpty(Map<String, String> env, String name) {
        return env.get(name) != null && !env.get(name).isEmpty();
    }
}
