package dev.taskid.cli.admin;

import dev.taskid.allocator.IdScanner;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Output;
import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.AuditReader;
import dev.taskid.state.Config;
import dev.taskid.state.HighWater;
import dev.taskid.state.StateDir;
import dev.taskid.state.StateFile;
import dev.taskid.state.Users;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The checks of {@code taskid doctor}: is everything that makes IDs unique in order? Each
 * finding has a stable name and a level; the exit status is 1 when any is a failure.
 */
final class Doctor {
    /** How bad a finding is. */
    enum Level {
        OK,
        INFO,
        WARN,
        FAIL
    }

    /** One finding: {@code check} is a stable name (daemon, counters, drift, ...). */
    record Finding(String check, Level level, String message) {}

    private final TaskIds ids;
    private final StateDir dir;
    private final Json codec = new Json();
    private final List<Finding> findings = new ArrayList<>();

    Doctor(TaskIds ids) {
        this.ids = ids;
        this.dir = ids.stateDir();
    }

    void examine() {
        boolean daemon = daemon();
        if (backend()) {
            return; // the local checks below are about files this repository does not use
        }
        if (!Files.isDirectory(dir.dir())) {
            add("state-dir", Level.INFO, dir.dir() + " does not exist yet: the first reservation creates it");
            return;
        }
        stateDir();
        Optional<Config> config = config();
        boolean counters = counters();
        lock(daemon);
        audit();
        if (counters && config.isPresent()) {
            drift(config.get());
        }
    }

    private boolean daemon() {
        Path socket = ids.socket();
        try {
            Optional<Response.Hello> hello = ids.daemon();
            if (hello.isPresent()) {
                Response.Hello h = hello.get();
                add(
                        "daemon",
                        Level.OK,
                        "pid " + h.pid() + ", taskid " + h.version() + ", protocol v" + h.protocol() + ", socket "
                                + socket
                                + (h.stateDir().equals(dir.dir().toString()) ? "" : ", serving " + h.stateDir()));
                if (Files.exists(socket)) {
                    mode("socket", socket, Set.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE));
                }
                return true;
            }
        } catch (TaskIdException e) {
            add("daemon", Level.FAIL, "a daemon answers at " + socket + " but: " + e.code() + ": " + e.getMessage());
            return false;
        }
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            add(
                    "daemon",
                    Level.WARN,
                    "no daemon answers, but " + socket + " exists: left by a daemon that was killed; "
                            + "the next daemon replaces it, and the file lock serves requests meanwhile");
        } else {
            add(
                    "daemon",
                    Level.INFO,
                    "no daemon running: requests are served by the file lock (start one: taskid daemon)");
        }
        return false;
    }

    /** The shared backend's checks when one is configured; false for the local backend. */
    private boolean backend() {
        Optional<dev.taskid.backend.BackendConfig> shared;
        try {
            shared = ids.backend();
            if (shared.isEmpty()) {
                return false;
            }
            for (dev.taskid.backend.RemoteBackend.Check c :
                    ids.remoteBackend().orElseThrow().diagnose()) {
                add(c.name().replace(' ', '-'), c.ok() ? Level.OK : Level.FAIL, c.detail());
            }
        } catch (TaskIdException e) {
            add("backend", Level.FAIL, e.code() + ": " + e.getMessage());
            return true;
        }
        add(
                "counters",
                Level.INFO,
                "counters live in the shared backend; " + dir.counters() + " is not used (taskid"
                        + " backend import raises the shared counters to at least the local ones)");
        return true;
    }

    private void stateDir() {
        try {
            int owner = (Integer) Files.getAttribute(dir.dir(), "unix:uid");
            if (owner != Users.currentUid()) {
                add(
                        "state-dir",
                        Level.WARN,
                        dir.dir() + " belongs to uid " + owner + ", not to you (uid " + Users.currentUid()
                                + "): a daemon run by its owner serves you only if config allowedUids lists you");
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // no owner to compare on this file system
        }
        mode("state-dir", dir.dir(), Set.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE));
    }

    private Optional<Config> config() {
        try {
            Config c = Config.load(dir.config(), codec);
            add(
                    "config",
                    Level.OK,
                    (Files.exists(dir.config()) ? dir.config().toString() : "no config.json (defaults)")
                            + ": " + c.prefixes().size() + " prefixes, max batch " + c.maxBatch() + ", lock timeout "
                            + c.lockTimeout().toMillis() + " ms");
            return Optional.of(c);
        } catch (TaskIdException e) {
            add("config", Level.FAIL, e.code() + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    /** True when counters.json is readable. */
    private boolean counters() {
        StateFile file = new StateFile(dir.counters(), codec, Clock.systemUTC());
        StateFile.Inspection current = file.inspect(dir.counters());
        boolean readable = current.readable();
        if (!current.exists()) {
            add("counters", Level.INFO, dir.counters() + " does not exist yet: the first reservation creates it");
        } else if (readable) {
            List<HighWater.Rewound> rewound = new HighWater(dir.dir(), codec).rewound(current.ledger(), false);
            if (rewound.isEmpty()) {
                add(
                        "counters",
                        Level.OK,
                        dir.counters() + ": " + current.ledger().counters().size() + " prefixes");
            } else {
                add(
                        "counters",
                        Level.FAIL,
                        "STATE_CORRUPT: "
                                + HighWater.corrupt(dir.counters(), rewound).getMessage());
            }
            mode("counters", dir.counters(), Set.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE));
        } else {
            add(
                    "counters",
                    Level.FAIL,
                    "STATE_CORRUPT: " + dir.counters() + " is unreadable (" + current.problem()
                            + "); nothing can be reserved. Run: taskid recover");
        }
        StateFile.Inspection previous = file.inspect(file.previous());
        if (previous.exists() && !previous.readable()) {
            add("backup", Level.WARN, file.previous() + " is unreadable (" + previous.problem() + ")");
        }
        List<Path> copies = new ArrayList<>();
        try (DirectoryStream<Path> s =
                Files.newDirectoryStream(dir.dir(), dir.counters().getFileName() + ".corrupt-*")) {
            s.forEach(copies::add);
        } catch (IOException e) {
            add("state-dir", Level.FAIL, "cannot list " + dir.dir() + ": " + e.getMessage());
        }
        if (!copies.isEmpty()) {
            add(
                    "corrupt-copies",
                    Level.WARN,
                    copies.size() + " copies of an unreadable counters.json are kept ("
                            + copies.get(0).getFileName() + (copies.size() > 1 ? ", ..." : "")
                            + "); delete them once you no longer need them");
        }
        return readable;
    }

    private void lock(boolean daemon) {
        Optional<String> holder;
        try {
            holder = ids.lockHolder();
        } catch (TaskIdException e) {
            add("lock", Level.FAIL, "cannot open the lock file " + dir.lock() + ": " + e.getMessage());
            return;
        }
        if (holder.isEmpty()) {
            add("lock", Level.OK, "free");
        } else if (daemon && holder.get().contains("(daemon)")) {
            add("lock", Level.OK, "held by the daemon: " + holder.get());
        } else {
            add(
                    "lock",
                    Level.WARN,
                    "held by " + holder.get() + ": a reservation in progress, or a stuck process "
                            + "(a lock dies with its holder and is never broken by age; others wait, then LOCK_TIMEOUT)");
        }
        List<Path> tmps = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir.dir(), "*.tmp")) {
            s.forEach(tmps::add);
        } catch (IOException e) {
            // listed again by the state-dir check
        }
        if (holder.isEmpty() && !tmps.isEmpty()) {
            add(
                    "leftovers",
                    Level.INFO,
                    tmps.get(0) + (tmps.size() > 1 ? " and " + (tmps.size() - 1) + " more" : "")
                            + " left from an interrupted write; harmless, the next writer removes those of processes that ended");
        }
    }

    private void audit() {
        try {
            AuditReader.Counters c = AuditReader.counters(dir.dir(), codec);
            add(
                    "audit",
                    c.unreadable() > 0 ? Level.WARN : Level.OK,
                    c.lines() + " lines in " + AuditReader.files(dir.dir()).size() + " file(s)"
                            + (c.unreadable() > 0
                                    ? ", " + c.unreadable() + " unreadable (a torn write; skipped)"
                                    : ""));
        } catch (TaskIdException e) {
            add("audit", Level.WARN, e.getMessage());
        }
    }

    private void drift(Config config) {
        Path tasks = dir.projectRoot().resolve("TASKS.md");
        if (!Files.isRegularFile(tasks)) {
            add("drift", Level.INFO, "no TASKS.md at " + dir.projectRoot() + " to compare with");
            return;
        }
        Map<String, Long> highest;
        Map<String, Long> counters;
        try {
            highest = new IdScanner(config.prefixes())
                    .scan(Files.readString(tasks, StandardCharsets.UTF_8))
                    .highest();
            Response r = ids.call(new Request.Peek(null, null)).response();
            if (!(r instanceof Response.Counters c)) {
                add("drift", Level.WARN, "could not read the counters: " + r);
                return;
            }
            counters = c.counters();
        } catch (IOException | TaskIdException e) {
            add("drift", Level.WARN, "could not compare TASKS.md with the counters: " + e.getMessage());
            return;
        }
        List<String> ahead = new ArrayList<>();
        highest.forEach((prefix, max) -> {
            long counter = counters.getOrDefault(prefix, 0L);
            if (config.wrap(prefix) == 0 && max > counter) {
                ahead.add(prefix + "-" + max + " (counter at " + counter + ")");
            }
        });
        if (ahead.isEmpty()) {
            add("drift", Level.OK, "every ID in " + tasks + " is at or below its counter");
        } else {
            add(
                    "drift",
                    Level.FAIL,
                    "COLLISION RISK: " + tasks + " has IDs nobody reserved: " + String.join(", ", ahead)
                            + ". The next reservations would hand them out again. Fix: taskid init (raises the counters; "
                            + "`taskid check` lists where they are)");
        }
    }

    private void mode(String check, Path path, Set<PosixFilePermission> forbidden) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
            List<PosixFilePermission> bad =
                    perms.stream().filter(forbidden::contains).toList();
            if (!bad.isEmpty()) {
                add(
                        check,
                        Level.WARN,
                        path + " is " + PosixFilePermissions.toString(perms) + ": others can write it (chmod go-w "
                                + path + ")");
            }
        } catch (IOException | UnsupportedOperationException e) {
            // nothing to check on this file system
        }
    }

    private void add(String check, Level level, String message) {
        findings.add(new Finding(check, level, message));
    }

    int report(Output o) {
        boolean healthy = findings.stream().noneMatch(f -> f.level() == Level.FAIL);
        if (o.json()) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (Finding f : findings) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("check", f.check());
                m.put("level", f.level().name().toLowerCase(java.util.Locale.ROOT));
                m.put("message", f.message());
                list.add(m);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("healthy", healthy);
            m.put("stateDir", dir.dir().toString());
            m.put("findings", list);
            o.object(m);
        } else {
            o.out().println("taskid doctor: " + dir.dir());
            for (Finding f : findings) {
                o.out()
                        .printf(
                                "%-5s %-15s %s%n",
                                f.level() == Level.FAIL
                                        ? "FAIL"
                                        : f.level().name().toLowerCase(java.util.Locale.ROOT),
                                f.check(),
                                f.message());
            }
            o.out().println(healthy ? "healthy" : "NOT healthy: see the FAIL lines above");
        }
        return healthy ? Context.OK : Context.NO;
    }
}
