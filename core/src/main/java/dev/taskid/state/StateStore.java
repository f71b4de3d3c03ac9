package dev.taskid.state;

import dev.taskid.allocator.IdScanner;
import dev.taskid.allocator.Ledger;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.JsonLines;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One state directory opened for writing: its config, lock, counters file and audit log. The
 * daemon and the file-lock fallback both go through this class, so both load, create and save
 * the state the same way. Holds the lock file open for its whole life (see {@link StateLock}).
 */
public final class StateStore implements AutoCloseable {
    private final StateDir dir;
    private final StateLock lock;
    private final StateFile file;
    private final AuditLog audit;
    private final JsonLines json;
    private final Clock clock;
    private final LegacyState legacy;
    private volatile Runnable onMoved = () -> { };

    /** Counters as loaded, and what was done to create them if they were missing. */
    public record Loaded(Ledger ledger, Optional<String> notice) {
    }

    private StateStore(StateDir dir, StateLock lock, StateFile file, AuditLog audit, JsonLines json, Clock clock) {
        this.json = json;
        this.clock = clock;
        this.dir = dir;
        this.lock = lock;
        this.file = file;
        this.audit = audit;
        this.legacy = new LegacyState(dir, file, clock);
    }

    /** Opens (creating if needed) the state directory and its lock file; default audit log bounds. */
    public static StateStore open(StateDir dir, JsonLines json, Clock clock) {
        return open(dir, json, clock, Config.AuditOptions.DEFAULT);
    }

    /** Opens (creating if needed) the state directory and its lock file. */
    public static StateStore open(StateDir dir, JsonLines json, Clock clock, Config.AuditOptions auditOptions) {
        try {
            dir.create();
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR,
                    "cannot create state directory " + dir.dir() + ": " + e.getMessage(), Map.of(), e);
        }
        return new StateStore(dir, new StateLock(dir.lock(), clock), new StateFile(dir.counters(), json, clock),
                new AuditLog(dir.dir(), json, auditOptions), json, clock);
    }

    public StateDir dir() {
        return dir;
    }

    public StateLock lock() {
        return lock;
    }

    public StateFile file() {
        return file;
    }

    public AuditLog audit() {
        return audit;
    }

    /**
     * {@code action} runs (once per occurrence, on the writing thread, before STATE_MOVED is
     * thrown) when a commit finds the state directory removed or replaced: the daemon stops
     * serving then, since its memory no longer matches any file.
     */
    public void onStateMoved(Runnable action) {
        this.onMoved = action;
    }

    /**
     * STATE_MOVED unless the lock file this store holds is still the one in the state
     * directory (see {@link StateLock#verify()}); checked before every write. Cheap: two stats.
     */
    public void verifyInPlace() {
        try {
            lock.verify();
        } catch (TaskIdException e) {
            if (e.code() == ErrorCode.STATE_MOVED) {
                onMoved.run();
            }
            throw e;
        }
    }

    /**
     * Makes the ledger's changes durable, with their audit lines; the caller holds the lock and
     * answers only after this returns. One step, in this order: counters.json (write, fsync,
     * rename, fsync the directory), then all of {@code entries} in one append and one fsync of
     * audit.log. On success the ledger is committed. On failure it is rolled back and
     * SYSTEM_ERROR is thrown, so nothing of the batch may be acknowledged:
     * <ul>
     * <li>counters.json failed: the old file is intact;</li>
     * <li>audit.log failed: counters.json already holds the batch. The old values are written
     * back if the disk allows; if not, the file stays ahead of the memory. Either way no number
     * can be handed out twice: the numbers between the two were never acknowledged to anyone,
     * so handing them out later (or skipping them) is not a duplicate. The reverse order
     * (log first) would be wrong: a failed counters write would leave logged IDs that are
     * then handed out again.</li>
     * </ul>
     */
    public void commit(Ledger ledger, List<AuditLog.Entry> entries) {
        try {
            verifyInPlace();
            file.write(ledger);
        } catch (RuntimeException e) {
            ledger.rollback();
            throw e;
        }
        try {
            audit.append(entries);
        } catch (RuntimeException e) {
            ledger.rollback();
            try {
                file.write(ledger);
            } catch (RuntimeException stillFailing) {
                e.addSuppressed(stillFailing);
            }
            throw e;
        }
        ledger.commit();
    }

    /**
     * Reads the counters; the caller holds the lock. On first use (no counters.json) creates
     * the file, durably, from the highest IDs in the project's TASKS.md, so new IDs never
     * collide with tasks that already exist.
     */
    public Loaded load(Config config) {
        return load(config, AuditLog.Requester.self(AuditLog.FALLBACK, -1));
    }

    /** {@link #load(Config)}; {@code by} is named in the audit lines of a first-use creation. */
    public Loaded load(Config config, AuditLog.Requester by) {
        Optional<String> moved = legacy.migrate();
        Optional<Ledger> stored = file.read();
        if (stored.isPresent()) {
            return new Loaded(stored.get(), moved);
        }
        // A missing file is not always a first use: it may have been deleted. Start from the
        // highest of everything that knows what was handed out, like recover does.
        Recovery.Plan plan = new Recovery(dir, file, config, json).plan();
        Map<String, Long> counters = new java.util.TreeMap<>();
        plan.rows().forEach(r -> counters.put(r.prefix(), r.result()));
        Ledger ledger = plan.backup().readable()
                ? new Ledger(counters, plan.backup().ledger().keys(), plan.backup().ledger().activeNumbers())
                : new Ledger(counters, List.of());
        List<String> sources = new ArrayList<>();
        if (plan.tasksRead()) {
            sources.add(plan.tasks().toString());
        }
        if (plan.auditLines() > 0) {
            sources.add("the audit log (" + plan.auditLines() + " lines)");
        }
        if (plan.backup().readable()) {
            sources.add(file.previous().toString());
        }
        String notice = "taskid: created " + file.path() + (sources.isEmpty()
                ? " with all counters at 0 (no TASKS.md in " + dir.projectRoot() + ")"
                : " from " + String.join(", ", sources) + (counters.isEmpty() ? " (all counters at 0)" : ": " + summary(counters)));
        if (plan.auditLines() > 0 || plan.backup().readable()) {
            notice += "; counters.json was missing although taskid had used this directory before";
        }
        file.write(ledger);
        ledger.commit();
        List<AuditLog.Entry> created = new ArrayList<>();
        java.time.Instant now = clock.instant();
        String why = "first use: counters from " + (sources.isEmpty() ? "nothing (all at 0)" : String.join(", ", sources));
        ledger.counters().forEach((prefix, value) -> created.add(
                new AuditLog.Entry(now, "create", prefix, null, null, 0, value, why, null, null, by)));
        if (created.isEmpty()) {
            created.add(new AuditLog.Entry(now, "create", null, null, null, -1, -1, why, null, null, by));
        }
        try {
            audit.append(created);
        } catch (RuntimeException e) {
            // Creating hands out nothing: a missing line here cannot hide an acknowledged ID.
            notice += " (audit.log: " + e.getMessage() + ")";
        }
        return new Loaded(ledger, Optional.of(moved.map(m -> m + "\n").orElse("") + notice));
    }

    private static String summary(Map<String, Long> highest) {
        List<String> parts = highest.entrySet().stream().map(e -> e.getKey() + " -> " + e.getValue())
                .collect(Collectors.toList());
        return String.join(", ", parts);
    }

    @Override
    public void close() {
        lock.close();
    }
}
