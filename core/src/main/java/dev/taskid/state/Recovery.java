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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Rebuilds counters.json when it is unreadable ({@code taskid recover}). Every source of what
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
    public record Row(String prefix, long audit, long tasks, long backup, long result) {
    }

    /**
     * What recover would do. {@code needed} false when counters.json is readable (then
     * {@code rows} compares it with the other sources, for information).
     */
    public record Plan(boolean needed, StateFile.Inspection current, StateFile.Inspection backup, int auditLines,
                       int auditUnreadable, Path tasks, boolean tasksRead, List<Row> rows) {
        public Plan {
            rows = List.copyOf(rows);
        }
    }

    private final StateDir dir;
    private final StateFile file;
    private final Config config;
    private final JsonLines json;

    public Recovery(StateDir dir, StateFile file, Config config, JsonLines json) {
        this.dir = dir;
        this.file = file;
        this.config = config;
        this.json = json;
    }

    /** Reads every source; changes nothing. */
    public Plan plan() {
        StateFile.Inspection current = file.inspect(file.path());
        StateFile.Inspection backup = file.inspect(file.previous());
        AuditLog.Counters audit = AuditLog.counters(dir.dir(), json);
        Path tasks = dir.projectRoot().resolve("TASKS.md");
        Map<String, Long> inTasks = Map.of();
        boolean tasksRead = false;
        if (Files.isRegularFile(tasks)) {
            try {
                inTasks = new IdScanner(config.prefixes()).scan(Files.readString(tasks, StandardCharsets.UTF_8)).highest();
                tasksRead = true;
            } catch (IOException e) {
                throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot read " + tasks + ": " + e.getMessage(), Map.of(), e);
            }
        }
        Map<String, Long> fromBackup = backup.readable() ? backup.ledger().counters() : Map.of();
        TreeSet<String> prefixes = new TreeSet<>(audit.highest().keySet());
        prefixes.addAll(inTasks.keySet());
        prefixes.addAll(fromBackup.keySet());
        List<Row> rows = new ArrayList<>();
        for (String p : prefixes) {
            long a = audit.highest().getOrDefault(p, NONE);
            long t = inTasks.getOrDefault(p, NONE);
            long b = fromBackup.getOrDefault(p, NONE);
            rows.add(new Row(p, a, t, b, Math.max(0, Math.max(a, Math.max(t, b)))));
        }
        return new Plan(current.exists() && !current.readable(), current, backup, audit.lines(), audit.unreadable(),
                tasks, tasksRead, rows);
    }

    /**
     * Writes the plan's counters; the caller holds the state lock. Refuses unless counters.json
     * is still unreadable and a copy of it exists, so nothing readable is ever replaced and the
     * unreadable bytes are never lost. Returns the audit lines it appended.
     */
    public List<AuditLog.Entry> apply(Plan plan, StateStore store, AuditLog.Requester by, Instant now) {
        if (!plan.needed()) {
            throw new TaskIdException(ErrorCode.BAD_REQUEST, file.path() + " is readable: nothing to recover");
        }
        StateFile.Inspection again = file.inspect(file.path());
        if (again.readable() || !again.exists()) {
            throw new TaskIdException(ErrorCode.BAD_REQUEST, file.path() + " changed since the plan was made; run recover again");
        }
        try {
            file.read(); // saves the counters.json.corrupt-<time> copy if none was saved yet
        } catch (TaskIdException expected) {
            if (!hasCorruptCopy()) { // asked of the directory, not read from a message
                throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "no copy of the unreadable " + file.path()
                        + " could be saved; not replacing it: " + expected.getMessage());
            }
        }
        Ledger base = plan.backup().readable() ? plan.backup().ledger() : null;
        Map<String, Long> counters = new TreeMap<>();
        plan.rows().forEach(r -> counters.put(r.prefix(), r.result()));
        Ledger ledger = base == null ? new Ledger(counters, List.of())
                : new Ledger(counters, base.keys(), base.activeNumbers());
        file.write(ledger);
        ledger.commit();
        List<AuditLog.Entry> lines = new ArrayList<>();
        for (Row r : plan.rows()) {
            lines.add(new AuditLog.Entry(now, "recover", r.prefix(), null, null, r.backup(), r.result(),
                    "rebuilt from audit " + show(r.audit()) + ", TASKS.md " + show(r.tasks()) + ", backup " + show(r.backup()),
                    null, null, by));
        }
        store.audit().append(lines);
        return lines;
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
