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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Rebuilds counters.json when it is unreadable or rewound (below what the audit log says was
 * issued; see {@link HighWater}) ({@code taskid recover}). Every source of what
 * was handed out is read, and each counter becomes the HIGHEST any of them knows, so no number
 * that might have been handed out can be handed out again:
 * <ul>
 *   <li>the audit log (every change, with the counter after it; rotated files too);</li>
 *   <li>the IDs in the project's TASKS.md;</li>
 *   <li>{@code counters.json.prev}, the copy the daemon makes of the counters it loads at each
 *       start (it also gives back idempotency keys and active numbers of wrapped prefixes).</li>
 * </ul>
 * The unreadable file is kept as {@code counters.json.corrupt-<time>} (made when it was found
 * unreadable, checked again before anything is written).
 */
public final class Recovery {
    /** Not known to a source. */
    public static final long NONE = -1;

    /** One prefix: what each source says, and the counter recover writes. */
    public record Row(String prefix, long audit, long tasks, long backup, long result) {}

    /**
     * What recover would do. {@code needed} false when counters.json is readable and not
     * rewound (then {@code rows} compares it with the other sources, for information).
     * {@code rewound}: the prefixes of a readable counters.json below what was issued.
     */
    public record Plan(
            boolean needed,
            StateFile.Inspection current,
            StateFile.Inspection backup,
            int auditLines,
            int auditUnreadable,
            Path tasks,
            boolean tasksRead,
            List<Row> rows,
            List<HighWater.Rewound> rewound) {
        public Plan {
            rows = List.copyOf(rows);
            rewound = List.copyOf(rewound);
        }
    }

    private final StateDir dir;
    private final StateFile file;
    private final Config config;
    private final Json json;

    public Recovery(StateDir dir, StateFile file, Config config, Json json) {
        this.dir = dir;
        this.file = file;
        this.config = config;
        this.json = json;
    }

    /** Reads every source; changes nothing. */
    public Plan plan() {
        StateFile.Inspection current = file.inspect(file.path());
        StateFile.Inspection backup = file.inspect(file.previous());
        AuditReader.Counters audit = AuditReader.counters(dir.dir(), json);
        Path tasks = dir.projectRoot().resolve("TASKS.md");
        Map<String, Long> inTasks = Map.of();
        boolean tasksRead = false;
        if (Files.isRegularFile(tasks)) {
            try {
                inTasks = new IdScanner(config.prefixes())
                        .scan(Files.readString(tasks, StandardCharsets.UTF_8))
                        .highest();
                tasksRead = true;
            } catch (IOException e) {
                throw new TaskIdException(
                        ErrorCode.SYSTEM_ERROR, "cannot read " + tasks + ": " + e.getMessage(), Map.of(), e);
            }
        }
        Map<String, Long> fromBackup = backup.readable() ? backup.ledger().counters() : Map.of();
        HighWater highWater = new HighWater(dir.dir(), json);
        Map<String, Long> fromLog = new TreeMap<>(audit.highest());
        // the marks also remember rotated files since removed
        highWater.marks(false).forEach((p, v) -> fromLog.merge(p, v, Math::max));
        List<HighWater.Rewound> rewound = current.readable() ? highWater.rewound(current.ledger(), false) : List.of();
        Map<String, Long> now = current.readable() ? current.ledger().counters() : Map.of();
        TreeSet<String> prefixes = new TreeSet<>(fromLog.keySet());
        prefixes.addAll(now.keySet());
        prefixes.addAll(inTasks.keySet());
        prefixes.addAll(fromBackup.keySet());
        List<Row> rows = new ArrayList<>();
        for (String p : prefixes) {
            long a = fromLog.getOrDefault(p, NONE);
            long t = inTasks.getOrDefault(p, NONE);
            long b = fromBackup.getOrDefault(p, NONE);
            long c = now.getOrDefault(p, 0L);
            rows.add(new Row(p, a, t, b, Math.max(c, Math.max(a, Math.max(t, b)))));
        }
        // missing after taskid used the directory: the next load would rebuild it, or refuse (ActiveReplay)
        boolean needed = current.exists() && !current.readable()
                || !rewound.isEmpty()
                || !current.exists() && (audit.lines() > 0 || backup.readable());
        return new Plan(needed, current, backup, audit.lines(), audit.unreadable(), tasks, tasksRead, rows, rewound);
    }

    /**
     * Writes the plan's counters; the caller holds the state lock. Refuses unless counters.json
     * is still unreadable and a copy of it exists (so the unreadable bytes are never lost), or
     * still readable and rewound (then each counter is raised, never lowered, and its keys and
     * active numbers are kept). Returns the audit lines it appended.
     */
    public List<AuditEntry> apply(Plan plan, StateStore store, AuditEntry.Requester by, Instant now) {
        return apply(plan, store, by, now, false);
    }

    /** {@link #apply(Plan, StateStore, AuditEntry.Requester, Instant)}; see {@link #activeNumbers} for {@code allActive}. */
    public List<AuditEntry> apply(
            Plan plan, StateStore store, AuditEntry.Requester by, Instant now, boolean allActive) {
        if (!plan.needed()) {
            throw new TaskIdException(ErrorCode.BAD_REQUEST, file.path() + " is readable: nothing to recover");
        }
        StateFile.Inspection again = file.inspect(file.path());
        boolean rewound = again.readable()
                && !new HighWater(dir.dir(), json).rewound(again.ledger(), true).isEmpty();
        boolean missing = !again.exists();
        if (missing != !plan.current().exists()
                || !missing
                        && (again.readable() != rewound
                                || rewound != !plan.rewound().isEmpty())) {
            throw new TaskIdException(
                    ErrorCode.BAD_REQUEST, file.path() + " changed since the plan was made; run recover again");
        }
        if (!missing && !rewound) {
            keepUnreadable();
        }
        Ledger base = rewound
                ? again.ledger()
                : plan.backup().readable() ? plan.backup().ledger() : null;
        Map<String, Long> counters = new TreeMap<>();
        plan.rows().forEach(r -> counters.put(r.prefix(), r.result()));
        Map<String, Map<Long, Long>> active = activeNumbers(plan, allActive); // before writing: may refuse
        // The base's generation keeps the keys of keys.log that its counters cover (none without a base).
        Ledger ledger = new Ledger(
                counters, base == null ? List.of() : base.keys(), active, base == null ? 0 : base.generation());
        if (base != null && !base.keys().isEmpty()) {
            file.writeWithKeys(ledger); // an older version's keys: the next load moves them into keys.log
        } else {
            file.write(ledger);
        }
        ledger.commit();
        List<AuditEntry> lines = new ArrayList<>();
        for (Row r : plan.rows()) {
            long from = rewound ? again.ledger().counter(r.prefix()) : r.backup();
            lines.add(new AuditEntry(
                    now,
                    "recover",
                    r.prefix(),
                    null,
                    null,
                    from,
                    r.result(),
                    "rebuilt from audit " + show(r.audit()) + ", TASKS.md " + show(r.tasks()) + ", backup "
                            + show(r.backup()),
                    null,
                    null,
                    by));
        }
        store.audit().append(lines);
        return lines;
    }

    /**
     * The active numbers of the plan's wrapped prefixes: replayed from the audit log for those
     * with a history there or in the backup ({@link ActiveReplay}; STATE_CORRUPT when the log
     * cannot tell, unless {@code allActive}), every number handed out for the others (they come
     * from TASKS.md only: nobody knows which are in use) and for all with {@code allActive}.
     */
    public Map<String, Map<Long, Long>> activeNumbers(Plan plan, boolean allActive) {
        Map<String, Long> replayed = new TreeMap<>();
        Map<String, Long> carried = new TreeMap<>();
        for (Row r : plan.rows()) {
            (allActive || r.audit() == NONE && r.backup() == NONE ? carried : replayed).put(r.prefix(), r.result());
        }
        ActiveReplay replay = new ActiveReplay(config);
        Map<String, Map<Long, Long>> out = new TreeMap<>(replay.rebuild(dir.dir(), json, replayed));
        out.putAll(replay.allActive(carried));
        return out;
    }

    /** Makes sure a copy of the unreadable counters.json exists before it is replaced. */
    private void keepUnreadable() {
        try {
            file.read(); // saves the counters.json.corrupt-<time> copy if none was saved yet
        } catch (TaskIdException expected) {
            if (!hasCorruptCopy()) { // asked of the directory, not read from a message
                throw new TaskIdException(
                        ErrorCode.SYSTEM_ERROR,
                        "no copy of the unreadable " + file.path() + " could be saved; not replacing it: "
                                + expected.getMessage());
            }
        }
    }

    private boolean hasCorruptCopy() {
        try (var copies = Files.newDirectoryStream(dir.dir(), file.path().getFileName() + ".corrupt-*")) {
            return copies.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }

    private static String show(long v) {
        return v == NONE ? "-" : Long.toString(v);
    }
}
