package dev.taskid.state;

import dev.taskid.allocator.IdScanner;
import dev.taskid.allocator.Ledger;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
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
    private final Json json;
    private final Clock clock;
    private final LegacyState legacy;
    private volatile Runnable onMoved = () -> { };

    /** Counters as loaded, and what was done to create them if they were missing. */
    public record Loaded(Ledger ledger, Optional<String> notice) {
    }

    private StateStore(StateDir dir, StateLock lock, StateFile file, AuditLog audit, Json json, Clock clock) {
        this.json = json;
        this.clock = clock;
        this.dir = dir;
        this.lock = lock;
        this.file = file;
        this.audit = audit;
        this.legacy = new LegacyState(dir, file, clock);
    }

    /** Opens (creating if needed) the state directory and its lock file; default audit log bounds. */
    public static StateStore open(StateDir dir, Json json, Clock clock) {
        return open(dir, json, clock, Config.AuditOptions.DEFAULT);
    }

    /** Opens (creating if needed) the state directory and its lock file. */
    public static StateStore open(StateDir dir, Json json, Clock clock, Config.AuditOptions auditOptions) {
        try {
            dir.create();
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR,
                    "cannot create state directory " + dir.dir() + ": " + e.getMessage(), Map.of(), e);
        }
        OwnDirectory.check(dir.dir(), Users.currentUid());
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
     * The durable step of {@link #commit} for counters encoded earlier ({@link StateFile#encode})
     * and their audit lines, in the same order; it touches no ledger, so it may run on another
     * thread than the one changing the ledger (the daemon's persist thread). Throws
     * SYSTEM_ERROR; after an audit.log failure counters.json may hold the batch, which is
     * safe as {@link #commit} explains (nothing of it was acknowledged).
     */
    public void persist(byte[] counters, List<AuditLog.Entry> entries) {
        verifyInPlace(); // the daemon's every persist, like commit: never write into a replaced directory
        file.write(counters);
        audit.append(entries);
    }

    /**
     * Reads the counters; the caller holds the lock. On first use (no counters.json) creates
     * the file, durably, from the highest IDs in the project's TASKS.md, so new IDs never
     * collide with tasks that already exist.
     */
    public Loaded load(Config config) {
        return load(config, AuditLog.Requester.self(AuditLog.FALLBACK, -1));
    }

    /**
     * {@link #load(Config)}; {@code by} is named in the audit lines of a first-use creation. A
     * counters.json below what the audit log says was issued ({@link HighWater}) is
     * STATE_CORRUPT: it was rewound and would hand those numbers out again.
     */
    public Loaded load(Config config, AuditLog.Requester by) {
        return load(config, by, false);
    }

    /**
     * {@link #load(Config, AuditLog.Requester)}; with {@code readOnly} (validate, peek) a rewound
     * file is not refused but read as raised to what was issued, with a warning as notice: such a
     * ledger answers questions and is never written.
     */
    public Loaded load(Config config, AuditLog.Requester by, boolean readOnly) {
        Optional<String> moved = legacy.migrate();
        DurableFiles.removeDeadLeftovers(dir.dir());
        Optional<Ledger> stored = file.read();
        if (stored.isPresent()) {
            List<HighWater.Rewound> rewound = new HighWater(dir.dir(), json).rewound(stored.get(), true);
            if (rewound.isEmpty()) {
                return new Loaded(stored.get(), joined(moved, carryOver(stored.get(), config, by)));
            }
            TaskIdException corrupt = HighWater.corrupt(file.path(), rewound);
            if (!readOnly) {
                throw corrupt;
            }
            Map<String, Long> raised = new java.util.TreeMap<>(stored.get().counters());
            rewound.forEach(r -> raised.put(r.prefix(), r.highest()));
            return new Loaded(new Ledger(raised, stored.get().keys(), stored.get().activeNumbers()),
                    joined(moved, Optional.of("taskid: warning: STATE_CORRUPT: " + corrupt.getMessage()
                            + " Answered as if raised to the highest issued.")));
        }
        // A missing file is not always a first use: it may have been deleted. Start from the
        // highest of everything that knows what was handed out, like recover does.
        Recovery.Plan plan = new Recovery(dir, file, config, json).plan();
        Map<String, Long> counters = new java.util.TreeMap<>();
        plan.rows().forEach(r -> counters.put(r.prefix(), r.result()));
        // Active numbers of wrapped prefixes from the audit log (the backup may be older); refused when it cannot tell.
        Map<String, Map<Long, Long>> active = new Recovery(dir, file, config, json).activeNumbers(plan, false);
        Ledger ledger = new Ledger(counters, plan.backup().readable() ? plan.backup().ledger().keys() : List.of(), active);
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

    /**
     * A prefix configured to wrap whose counter moved while its active numbers were not tracked
     * (wrap enabled on a prefix that had handed out numbers, or handed out without wrap since):
     * every number it handed out is marked active (see {@link dev.taskid.allocator.Wrap#carryOver}),
     * durably and audited before anything is reserved, so wrapping never hands one out again.
     */
    private Optional<String> carryOver(Ledger ledger, Config config, AuditLog.Requester by) {
        List<AuditLog.Entry> lines = new ArrayList<>();
        java.time.Instant now = clock.instant();
        for (String prefix : config.prefixes()) {
            int wrap = config.wrap(prefix);
            long counter = ledger.counter(prefix);
            if (wrap > 0 && counter > 0 && !ledger.activeNumbers().containsKey(prefix)) {
                int marked = dev.taskid.allocator.Wrap.carryOver(ledger, prefix, 0, counter, wrap);
                // the numbers are in the line, so a rebuild from the log knows them (ActiveReplay)
                lines.add(new AuditLog.Entry(now, "wrap", prefix, null, List.copyOf(ledger.active(prefix).keySet()),
                        counter, counter,
                        "wrap " + wrap + " enabled at counter " + counter + ": the " + marked
                                + " numbers handed out so far are marked active; archive those no longer in use",
                        null, null, by));
            }
        }
        if (lines.isEmpty()) {
            return Optional.empty();
        }
        commit(ledger, lines);
        return Optional.of("taskid: " + lines.stream().map(l -> l.prefix() + ": " + l.purpose())
                .collect(Collectors.joining("; ")));
    }

    /** Both notices, one per line, or whichever there is. */
    private static Optional<String> joined(Optional<String> first, Optional<String> second) {
        if (first.isEmpty()) {
            return second;
        }
        return Optional.of(second.map(n -> first.get() + "\n" + n).orElse(first.get()));
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
