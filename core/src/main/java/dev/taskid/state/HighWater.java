package dev.taskid.state;

import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import dev.taskid.allocator.Ledger;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskId;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The highest counter ever issued per prefix, known from something a rewind of counters.json
 * does not rewind: the audit log, whose lines are made durable in the same step as
 * counters.json and before any answer ({@link StateStore#commit}). A counters.json below it
 * was rewound (restored from a backup, copied from another clone, edited by hand) and would
 * hand out those numbers again.
 *
 * <p>Reading the whole log at every fallback call would cost up to its size (tens of MiB), so
 * {@code highwater.json} summarizes it: the marks up to a byte offset of the current
 * audit.log (named by its file key and first bytes), plus the marks of every line since. Each
 * check reads that small file and the log's tail after the offset; the holder of the lock
 * refreshes the summary when the tail grows past {@link #REFRESH_BYTES} or the log was rotated
 * (then the whole log is read once). The summary only ever adds to what the log says, so it
 * keeps the marks of rotated files that were since removed. It is a cache of the log: an
 * unreadable or missing one is rebuilt from the log, never trusted blindly.
 *
 * <p>What it cannot see: a restore of the whole state directory (counters.json, audit log and
 * this file rewound together) looks like a consistent older state.
 */
public final class HighWater {
    public static final String FILE = "highwater.json";
    /** A tail longer than this is folded into the summary by the next lock holder. */
    static final long REFRESH_BYTES = 64 << 10;
    /** The first line names a log file (with its file key): its IDs or numbers and time make it unique. */
    private static final int HEAD_BYTES = 1024;

    private final Path dir;
    private final Path file;
    private final Json json;

    public HighWater(Path dir, Json json) {
        this.dir = dir.toAbsolutePath();
        this.file = this.dir.resolve(FILE);
        this.json = json;
    }

    public Path path() {
        return file;
    }

    /** A prefix whose counter is below the highest ever issued. */
    public record Rewound(String prefix, long counter, long highest) {}

    /** Where the summary ends: audit.log's identity and the offset read up to. */
    private record Summary(String fileKey, String head, long offset, Map<String, Long> marks) {}

    /**
     * The highest counter issued per prefix. {@code mayRefresh}: the caller holds the state
     * lock, so it may rewrite the summary (no other writer appends meanwhile).
     */
    public Map<String, Long> marks(boolean mayRefresh) {
        Path log = dir.resolve(AuditLog.FILE);
        Summary old = readSummary();
        String key = fileKey(log);
        String head = head(log);
        Map<String, Long> marks = new TreeMap<>(old == null ? Map.of() : old.marks());
        long from;
        boolean whole = old == null
                || key == null
                || !key.equals(old.fileKey())
                || !head.startsWith(old.head())
                || size(log) < old.offset();
        if (whole) {
            // Rotated, replaced, or no summary yet: every file of the log, oldest first.
            for (Path f : AuditReader.files(dir)) {
                if (!f.getFileName().toString().equals(AuditLog.FILE)) {
                    AuditReader.readFrom(f, 0, json, e -> apply(marks, e));
                }
            }
            from = 0;
        } else {
            from = old.offset();
        }
        long end = AuditReader.readFrom(log, from, json, e -> apply(marks, e));
        if (mayRefresh && key != null && (whole || end - from > REFRESH_BYTES)) {
            write(new Summary(key, head, end, marks));
        }
        return marks;
    }

    /** The prefixes of {@code ledger} below their high-water mark; empty when none. */
    public List<Rewound> rewound(Ledger ledger, boolean mayRefresh) {
        List<Rewound> out = new java.util.ArrayList<>();
        marks(mayRefresh).forEach((prefix, high) -> {
            if (ledger.counter(prefix) < high) {
                out.add(new Rewound(prefix, ledger.counter(prefix), high));
            }
        });
        return out;
    }

    /** STATE_CORRUPT for a rewound counters.json, with what to do. */
    public static TaskIdException corrupt(Path counters, List<Rewound> rewound) {
        StringBuilder list = new StringBuilder();
        Map<String, Object> details = new LinkedHashMap<>();
        for (Rewound r : rewound) {
            list.append(list.length() == 0 ? "" : ", ")
                    .append(r.prefix())
                    .append(" at ")
                    .append(r.counter())
                    .append(" but ")
                    .append(r.highest())
                    .append(" was issued");
            details.put(r.prefix(), Map.of("counter", r.counter(), "issued", r.highest()));
        }
        return new TaskIdException(
                ErrorCode.STATE_CORRUPT,
                counters + " is behind what was already handed out ("
                        + list
                        + ", says the audit log): it was rewound (restored, copied or edited) and would hand out "
                        + "those IDs again. Nothing was allocated. To recover: `taskid recover` raises each counter to the "
                        + "highest issued (never lowers one) and writes it with --yes.",
                Map.of("file", counters.toString(), "rewound", details),
                null);
    }

    /**
     * The mark after one audit line: the counter it left, or, for a counter lowered on purpose
     * ({@code set --force}), the lowered value.
     */
    private static void apply(Map<String, Long> marks, AuditEntry e) {
        if (e.prefix() == null || e.to() < 0 || !TaskId.isPrefix(e.prefix())) {
            return;
        }
        if ("set".equals(e.op()) && e.from() > e.to()) {
            marks.put(e.prefix(), e.to());
        } else {
            marks.merge(e.prefix(), e.to(), Math::max);
        }
    }

    private Summary readSummary() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot read " + file + ": " + e.getMessage(), Map.of(), e);
        }
        try {
            Map<String, Object> obj = json.readObject(bytes, 0, bytes.length);
            if (!(obj.get("audit") instanceof Map<?, ?> a)
                    || !(a.get("fileKey") instanceof String key)
                    || !(a.get("head") instanceof String head)
                    || !(a.get("offset") instanceof Long offset)
                    || !(obj.get("marks") instanceof Map<?, ?> m)) {
                return null;
            }
            Map<String, Long> marks = new TreeMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (TaskId.isPrefix(String.valueOf(e.getKey())) && e.getValue() instanceof Long v && v >= 0) {
                    marks.put(String.valueOf(e.getKey()), v);
                }
            }
            return new Summary(key, head, offset, marks);
        } catch (JsonException e) {
            return null; // a cache: an unreadable one is rebuilt from the log
        }
    }

    private void write(Summary s) {
        byte[] bytes = json.write(g -> {
            g.setPrettyPrinter(new DefaultPrettyPrinter());
            g.writeStartObject();
            g.writeNumberField("version", 1);
            g.writeObjectFieldStart("audit");
            g.writeStringField("fileKey", s.fileKey());
            g.writeStringField("head", s.head());
            g.writeNumberField("offset", s.offset());
            g.writeEndObject();
            Json.writeValue(g, "marks", s.marks());
            g.writeEndObject();
        });
        try {
            DurableFiles.write(DurableFiles.tmpFor(file), file, bytes);
        } catch (IOException e) {
            // Only a cache: the next holder reads the log's longer tail instead.
        }
    }

    /** The file key (device and inode) of {@code log}, or null when it does not exist. */
    private static String fileKey(Path log) {
        try {
            Object key = Files.readAttributes(log, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
            return key == null ? "" : key.toString();
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot read " + log + ": " + e.getMessage(), Map.of(), e);
        }
    }

    private static long size(Path log) {
        try {
            return Files.size(log);
        } catch (IOException e) {
            return -1;
        }
    }

    /** The first line of {@code log} in hex: with the file key, tells a reused inode apart. */
    private static String head(Path log) {
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer buf = ByteBuffer.allocate(HEAD_BYTES);
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // fill
            }
            int n = 0;
            while (n < buf.position() && buf.get(n) != '\n') {
                n++;
            }
            return HexFormat.of().formatHex(buf.array(), 0, n);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot read " + log + ": " + e.getMessage(), Map.of(), e);
        }
    }
}
