package dev.taskid.state;

import dev.taskid.allocator.Ledger;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
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
    private final KeyLog keys;
    private final Json json;
    private final Clock clock;
    private final LegacyState legacy;
    private volatile Runnable onMoved = () -> {};
    /** The daemon's audit lines not known durable in audit.log, which its counters.json carries. */
    private final CarriedAudit carried = new CarriedAudit();
    /**
     * On the install thread: a write or sync of audit.log failed, so the carried lines may be
     * missing there; the next install appends them again (synced) before it renames.
     */
    private boolean auditUnsure;

    /** Counters as loaded, and what was done to create them if they were missing. */
    public record Loaded(Ledger ledger, Optional<String> notice) {}

    private StateStore(StateDir dir, StateLock lock, StateFile file, AuditLog audit, Json json, Clock clock) {
        this.json = json;
        this.clock = clock;
        this.dir = dir;
        this.lock = lock;
        this.file = file;
        this.audit = audit;
        this.keys = new KeyLog(dir.dir(), json);
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
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "cannot create state directory " + dir.dir() + ": " + e.getMessage(),
                    Map.of(),
                    e);
        }
        OwnDirectory.check(dir.dir(), Users.currentUid());
        return new StateStore(
                dir,
                new StateLock(dir.lock(), clock),
                new StateFile(dir.counters(), json, clock),
                new AuditLog(dir.dir(), auditOptions),
                json,
                clock);
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

    public KeyLog keys() {
        return keys;
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
     * Makes the ledger's changes durable, with their idempotency keys and audit lines:
     * {@link #prepare}, the rename of {@link #install}, then the audit lines appended and synced
     * (the file-lock fallback answers and exits after this). The caller holds the lock and
     * answers only after this returns. On success the ledger is committed. On failure it is
     * rolled back and SYSTEM_ERROR is thrown, so nothing of the batch may be acknowledged; when
     * only the audit append failed, the old counters are written back where the disk allows
     * (the numbers were never acknowledged: skipping or reissuing them is no duplicate). The
     * batch's keys are those of its reservations' {@code entries}.
     */
    public void commit(Ledger ledger, List<AuditEntry> entries) {
        ledger.advanceGeneration();
        Prepared prepared;
        try {
            byte[] lines = audit.encode(entries);
            Sealed sealed = sealed(ledger.generation(), entries, lines, List.of(lines), true);
            prepared = prepare(file.encode(ledger), sealed, 0, false);
            installCounters(List.of(prepared), false);
        } catch (RuntimeException e) {
            ledger.rollback();
            throw e;
        }
        try {
            audit.append(prepared.auditLines(), true);
        } catch (RuntimeException e) {
            keys.abandoned(prepared.generation());
            ledger.rollback();
            try {
                file.write(ledger);
            } catch (RuntimeException stillFailing) {
                e.addSuppressed(stillFailing);
            }
            throw e;
        }
        keys.committed(prepared.generation());
        ledger.commit();
        try {
            keys.compactIfDue();
        } catch (IOException | RuntimeException e) {
            // Nothing was appended since the rename, so the old file and the new one both hold
            // every durable key: lost is nothing; the next commit tries again.
        }
    }

    /**
     * A batch of the daemon's, sealed: its audit lines, the lines its counters.json carries, and
     * the failure of the append of its idempotency keys to keys.log, if it failed. Made by
     * {@link #seal} in the order of the batches, then handed to {@link #prepare}.
     */
    public static final class Sealed {
        private final long generation;
        private final byte[] lines;
        private final List<byte[]> carry;
        private final RuntimeException keysFailed;

        private Sealed(long generation, byte[] lines, List<byte[]> carry, RuntimeException keysFailed) {
            this.generation = generation;
            this.lines = lines;
            this.carry = carry;
            this.keysFailed = keysFailed;
        }
    }

    /** A batch whose files are written and synced, ready for {@link #install}. */
    public record Prepared(long generation, int slot, byte[] auditLines) {}

    /**
     * Seals the daemon's batch of {@code generation}: called once per batch, in the order of the
     * generations (the lines counters.json carries, and keys.log's appends, are in that order),
     * on the thread that applies the batches. Appends the batch's key lines to keys.log (tagged
     * with the generation): one write, not synced; a failure fails the batch in {@link #prepare}. Like the
     * audit lines, they are synced off the answers' path ({@link #syncAudit}): until then every
     * counters.json carries the batch's audit lines, which hold the keys, and a load appends what
     * keys.log lacks ({@link KeyLog#restore}).
     */
    public Sealed seal(long generation, List<AuditEntry> entries) {
        byte[] lines = audit.encode(entries);
        return sealed(generation, entries, lines, carried.add(generation, lines), false);
    }

    /** {@code syncKeys}: keys.log is fdatasynced before the batch is installed (the fallback), else by {@link #syncAudit}. */
    private Sealed sealed(
            long generation, List<AuditEntry> entries, byte[] lines, List<byte[]> carry, boolean syncKeys) {
        List<Ledger.KeyRecord> fresh = KeyLog.records(entries);
        RuntimeException failed = null;
        if (!fresh.isEmpty() || keys.hasStaleTail()) {
            try {
                keys.append(generation, fresh, syncKeys);
            } catch (RuntimeException e) {
                failed = e;
            }
        }
        return new Sealed(generation, lines, carry, failed);
    }

    /**
     * The first half of a batch's durable step, which the daemon runs for several batches at once
     * (each in its own temporary file {@code slot}) while an earlier one is installed:
     * counters.json's temporary file written and fsynced, and the batch's key lines (see
     * {@link #seal}) synced. The file carries the batch's audit lines and every earlier one not
     * known durable in audit.log ({@link CarriedAudit}, {@link StateFile#withAudit}). A crash here,
     * or before the rename of {@link #install}, leaves the old counters.json (generation G),
     * perhaps with key lines of G+1 or later: never replayed ({@link KeyLog#load}), since their
     * IDs are not covered by counters.json and would be handed out again. Throws SYSTEM_ERROR with
     * nothing of the batch left behind.
     */
    public Prepared prepare(byte[] counters, Sealed sealed, int slot) {
        return prepare(counters, sealed, slot, true);
    }

    private Prepared prepare(byte[] counters, Sealed sealed, int slot, boolean reusing) {
        RuntimeException failure = sealed.keysFailed; // then the batch fails: no file to write
        if (failure == null) {
            try {
                verifyInPlace(); // never write into a replaced directory
                byte[] bytes = StateFile.withAudit(counters, sealed.carry);
                if (reusing) {
                    file.prepareReusing(bytes, slot);
                } else {
                    file.prepare(bytes, slot);
                }
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (failure != null) {
            file.discard(slot);
            keys.abandoned(sealed.generation);
            carried.abandoned(sealed.generation);
            throw failure;
        }
        return new Prepared(sealed.generation, slot, sealed.lines);
    }

    /**
     * The second half, for the daemon, for one or more prepared batches in the order they were
     * sealed (consecutive generations): the rename of the newest one's file over counters.json
     * and the directory fsync; the older ones' files are dropped unrenamed, since the newest file
     * holds the whole state (their changes included) and carries their audit lines. Then the
     * batches' audit lines are written to audit.log, not synced. The batches may be answered when
     * this returns: their IDs and audit lines are in the durable counters.json, and the lines are
     * in audit.log's page cache (they survive the daemon's death). audit.log is synced later
     * ({@link #syncAudit}); until then every counters.json carries the lines, and a load appends
     * what audit.log lacks. The lines go to audit.log after the rename is durable, never before:
     * audit lines durable while their counters.json is not would read, at the next load, as a
     * counters.json behind what was issued ({@link HighWater}: STATE_CORRUPT), which a crash must
     * never leave. If an earlier write or sync of audit.log failed, the carried lines are
     * appended and synced again first (after an I/O error they may then be listed twice; never
     * missing). Throws SYSTEM_ERROR, and then nothing of the batches may be answered.
     */
    public void install(List<Prepared> batches) {
        Prepared newest = batches.get(batches.size() - 1);
        if (auditUnsure) {
            try {
                audit.append(carried.installedLines(), true);
                syncKeys(); // before the lines stop being carried
                carried.synced();
                auditUnsure = false;
            } catch (RuntimeException e) {
                batches.forEach(p -> abandon(p.generation(), p.slot()));
                throw e;
            }
        }
        installCounters(batches, true);
        int size = 0;
        for (Prepared p : batches) { // the older ones' files stay for their slots' next batches
            keys.committed(p.generation());
            carried.installed(p.generation());
            size += p.auditLines().length;
        }
        byte[] lines = newest.auditLines();
        if (batches.size() > 1) {
            lines = new byte[size];
            int at = 0;
            for (Prepared p : batches) {
                System.arraycopy(p.auditLines(), 0, lines, at, p.auditLines().length);
                at += p.auditLines().length;
            }
        }
        try {
            audit.append(lines, false);
        } catch (RuntimeException e) {
            // The batches are durable, lines included (counters.json carries them): they are
            // answered, and the lines are written again before the next rename, which fails if
            // they cannot be.
            auditUnsure = true;
        }
    }

    /**
     * fdatasync of the audit lines {@link #install} wrote, when they are {@code atLeast} bytes
     * (0: any), and first of keys.log's lines (see {@link #seal}); on the install thread, between
     * installs. Throws SYSTEM_ERROR when the audit lines may not be durable (the next install
     * then writes them again first), {@link KeysLost} when the key lines may not be.
     */
    public void syncAudit(long atLeast) {
        if (auditUnsure || carried.installedBytes() == 0 || carried.installedBytes() < atLeast) {
            return;
        }
        syncKeys();
        try {
            audit.sync();
        } catch (RuntimeException e) {
            auditUnsure = true; // after a failed fsync the pages may be dropped: write them again
            throw e;
        }
        carried.synced();
    }

    /**
     * keys.log's fdatasync of the daemon's unsynced key lines. Its failure is {@link KeysLost}:
     * the pages may have been dropped, and only a load puts them back (from the audit lines
     * counters.json carries), so the daemon must stop.
     */
    private void syncKeys() {
        try {
            keys.sync();
        } catch (RuntimeException e) {
            throw new KeysLost(e);
        }
    }

    /** Whether keys.log is due for {@link #compactKeys}. */
    public boolean keysCompactionDue() {
        return keys.compactionDue();
    }

    /**
     * keys.log's compaction when it is due ({@link KeyLog#compactIfDue}), for the daemon's
     * compaction thread, one at a time, while batches go on. Throws SYSTEM_ERROR when it failed:
     * before the rename keys.log is unchanged; after it, the directory's fsync is retried by the
     * next {@link #syncAudit} (whose failure halts the daemon, see {@link KeysLost}).
     */
    public void compactKeys() {
        verifyInPlace(); // never rename into a replaced directory
        try {
            keys.compactIfDue();
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "could not compact " + keys.path() + " (" + DurableFiles.explain(keys.path(), e) + ")",
                    Map.of("file", keys.path().toString()),
                    e);
        }
    }

    /** keys.log could not be synced (see {@link #syncAudit}): the writer must stop; the next load restores the keys. */
    public static final class KeysLost extends RuntimeException {
        private static final long serialVersionUID = 1L;

        KeysLost(RuntimeException cause) {
            super("could not sync " + KeyLog.FILE + ": " + cause.getMessage(), cause);
        }
    }

    /** A prepared batch that will not be installed: its temporary file removed, its key lines cut off later. */
    public void abandon(long generation, int slot) {
        file.discard(slot);
        keys.abandoned(generation);
        carried.abandoned(generation);
    }

    /**
     * The rename of the newest of {@code batches} over counters.json (its reused tmp file when
     * {@code reusing}, see {@link StateFile#installReusing}); on failure every one is abandoned.
     */
    private void installCounters(List<Prepared> batches, boolean reusing) {
        int slot = batches.get(batches.size() - 1).slot();
        try {
            verifyInPlace();
            if (reusing) {
                file.installReusing(slot);
            } else {
                file.install(slot);
            }
        } catch (RuntimeException e) {
            batches.forEach(p -> abandon(p.generation(), p.slot()));
            throw e;
        }
    }

    /**
     * Reads the counters; the caller holds the lock. On first use (no counters.json) creates
     * the file, durably, from the highest IDs in the project's TASKS.md, so new IDs never
     * collide with tasks that already exist.
     */
    public Loaded load(Config config) {
        return load(config, AuditEntry.Requester.self(AuditLog.FALLBACK, -1));
    }

    /**
     * {@link #load(Config)}; {@code by} is named in the audit lines of a first-use creation. A
     * counters.json below what the audit log says was issued ({@link HighWater}) is
     * STATE_CORRUPT: it was rewound and would hand those numbers out again.
     */
    public Loaded load(Config config, AuditEntry.Requester by) {
        return load(config, by, false);
    }

    /**
     * {@link #load(Config, AuditEntry.Requester)}; with {@code readOnly} (validate, peek) a rewound
     * file is not refused but read as raised to what was issued, with a warning as notice: such a
     * ledger answers questions and is never written.
     */
    public Loaded load(Config config, AuditEntry.Requester by, boolean readOnly) {
        Optional<String> moved = legacy.migrate();
        DurableFiles.removeDeadLeftovers(dir.dir());
        Optional<StateFile.Stored> read = file.readStored();
        Optional<Ledger> stored = read.map(StateFile.Stored::ledger);
        if (stored.isPresent()) {
            List<HighWater.Rewound> rewound = new HighWater(dir.dir(), json).rewound(stored.get(), true);
            if (rewound.isEmpty()) {
                List<Ledger.KeyRecord> logged = null;
                if (!readOnly) {
                    // Before anything replaces this counters.json: its writer may have died (or
                    // the power failed) before its audit lines (and key lines) were durable.
                    audit.ensureEndsWith(read.get().auditLines());
                    logged = keys.restore(read.get().auditLines(), stored.get().generation());
                }
                Ledger ledger = withKeys(stored.get(), readOnly, logged);
                return new Loaded(ledger, joined(moved, carryOver(ledger, config, by)));
            }
            TaskIdException corrupt = HighWater.corrupt(file.path(), rewound);
            if (!readOnly) {
                throw corrupt;
            }
            Map<String, Long> raised = new java.util.TreeMap<>(stored.get().counters());
            rewound.forEach(r -> raised.put(r.prefix(), r.highest()));
            return new Loaded(
                    new Ledger(
                            raised,
                            keys(stored.get()),
                            stored.get().activeNumbers(),
                            stored.get().generation()),
                    joined(
                            moved,
                            Optional.of("taskid: warning: STATE_CORRUPT: " + corrupt.getMessage()
                                    + " Answered as if raised to the highest issued.")));
        }
        // A missing file is not always a first use: it may have been deleted. Start from the
        // highest of everything that knows what was handed out, like recover does.
        Recovery.Plan plan = new Recovery(dir, file, config, json).plan();
        Map<String, Long> counters = new java.util.TreeMap<>();
        plan.rows().forEach(r -> counters.put(r.prefix(), r.result()));
        // Active numbers of wrapped prefixes from the audit log (the backup may be older); refused when it cannot tell.
        Map<String, Map<Long, Long>> active = new Recovery(dir, file, config, json).activeNumbers(plan, false);
        // Generation 0: keys.log's lines of any later batch are ignored (their counters are gone).
        Ledger ledger = new Ledger(counters, keys.load(0), active, 0);
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
        String notice = "taskid: created " + file.path()
                + (sources.isEmpty()
                        ? " with all counters at 0 (no TASKS.md in " + dir.projectRoot() + ")"
                        : " from " + String.join(", ", sources)
                                + (counters.isEmpty() ? " (all counters at 0)" : ": " + summary(counters)));
        if (plan.auditLines() > 0 || plan.backup().readable()) {
            notice += "; counters.json was missing although taskid had used this directory before";
        }
        file.write(ledger);
        ledger.commit();
        List<AuditEntry> created = new ArrayList<>();
        java.time.Instant now = clock.instant();
        String why =
                "first use: counters from " + (sources.isEmpty() ? "nothing (all at 0)" : String.join(", ", sources));
        ledger.counters()
                .forEach((prefix, value) ->
                        created.add(new AuditEntry(now, "create", prefix, null, null, 0, value, why, null, null, by)));
        if (created.isEmpty()) {
            created.add(new AuditEntry(now, "create", null, null, null, -1, -1, why, null, null, by));
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
     * {@code stored} with the keys of keys.log that its generation covers. Keys an older version
     * kept inside counters.json are moved to keys.log first (unless {@code readOnly}): keys.log
     * rewritten with them, durably, then counters.json without them, so a crash between the two
     * leaves them in both (read once).
     */
    private Ledger withKeys(Ledger stored, boolean readOnly, List<Ledger.KeyRecord> logged) {
        Ledger ledger =
                new Ledger(stored.counters(), keys(stored, logged), stored.activeNumbers(), stored.generation());
        if (!readOnly && !stored.keys().isEmpty()) {
            keys.rewrite(List.copyOf(stored.keys()), stored.generation());
            file.write(ledger);
        }
        return ledger;
    }

    /** The keys of {@code stored}'s own file (an older version's) and those of keys.log up to its generation. */
    private List<Ledger.KeyRecord> keys(Ledger stored) {
        return keys(stored, null);
    }

    /** {@link #keys(Ledger)}, with keys.log's keys already {@code logged} (null: read them now). */
    private List<Ledger.KeyRecord> keys(Ledger stored, List<Ledger.KeyRecord> read) {
        List<Ledger.KeyRecord> logged = read != null ? read : keys.load(stored.generation());
        if (stored.keys().isEmpty()) {
            return logged;
        }
        java.util.LinkedHashMap<String, Ledger.KeyRecord> all = new java.util.LinkedHashMap<>();
        stored.keys().forEach(k -> all.put(k.key(), k));
        logged.forEach(k -> {
            all.remove(k.key());
            all.put(k.key(), k);
        });
        List<Ledger.KeyRecord> merged = new ArrayList<>(all.values());
        return merged.subList(Math.max(0, merged.size() - Ledger.MAX_KEYS), merged.size());
    }

    /**
     * A prefix configured to wrap whose counter moved while its active numbers were not tracked
     * (wrap enabled on a prefix that had handed out numbers, or handed out without wrap since):
     * every number it handed out is marked active (see {@link dev.taskid.allocator.Wrap#carryOver}),
     * durably and audited before anything is reserved, so wrapping never hands one out again.
     */
    private Optional<String> carryOver(Ledger ledger, Config config, AuditEntry.Requester by) {
        List<AuditEntry> lines = new ArrayList<>();
        java.time.Instant now = clock.instant();
        for (String prefix : config.prefixes()) {
            int wrap = config.wrap(prefix);
            long counter = ledger.counter(prefix);
            if (wrap > 0 && counter > 0 && !ledger.activeNumbers().containsKey(prefix)) {
                int marked = dev.taskid.allocator.Wrap.carryOver(ledger, prefix, 0, counter, wrap);
                // the numbers are in the line, so a rebuild from the log knows them (ActiveReplay)
                lines.add(new AuditEntry(
                        now,
                        "wrap",
                        prefix,
                        null,
                        List.copyOf(ledger.active(prefix).keySet()),
                        counter,
                        counter,
                        "wrap " + wrap + " enabled at counter " + counter + ": the " + marked
                                + " numbers handed out so far are marked active; archive those no longer in use",
                        null,
                        null,
                        by));
            }
        }
        if (lines.isEmpty()) {
            return Optional.empty();
        }
        commit(ledger, lines);
        return Optional.of("taskid: "
                + lines.stream().map(l -> l.prefix() + ": " + l.purpose()).collect(Collectors.joining("; ")));
    }

    /** Both notices, one per line, or whichever there is. */
    private static Optional<String> joined(Optional<String> first, Optional<String> second) {
        if (first.isEmpty()) {
            return second;
        }
        return Optional.of(second.map(n -> first.get() + "\n" + n).orElse(first.get()));
    }

    private static String summary(Map<String, Long> highest) {
        List<String> parts = highest.entrySet().stream()
                .map(e -> e.getKey() + " -> " + e.getValue())
                .collect(Collectors.toList());
        return String.join(", ", parts);
    }

    @Override
    public void close() {
        keys.close();
        file.discardReused();
        lock.close();
    }
}
