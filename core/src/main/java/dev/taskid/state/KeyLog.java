package dev.taskid.state;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.taskid.allocator.Ledger;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.json.JsonWriter;
import dev.taskid.json.Timestamps;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code keys.log}: the idempotency keys of recent reservations, one JSON line each, appended by
 * the persist of the batch that reserved them, so a persist costs O(keys of its batch), not
 * O(all keys remembered). Written only by the holder of the state lock.
 *
 * <pre>{"gen":7,"key":"k1","prefix":"SEC","count":2,"first":18,"at":"2026-11-25T09:59:58.250Z"}</pre>
 *
 * <p>{@code gen} is the generation of the batch (counters.json's {@code gen} once the batch is
 * durable). The lines of a batch are synced before its counters.json is renamed, so a crash
 * between the two leaves lines whose batch is not in counters.json: their IDs were never
 * acknowledged and counters.json does not cover them, so replaying such a key would hand its IDs
 * to the key's retry AND to the next reservation. {@link #load} therefore reads lines only up to
 * the first one newer than counters.json (or unreadable: torn by a crash), and the next append
 * cuts everything after that point off before it writes (also after a batch that failed in this
 * process). Bounded: once the file holds {@link #COMPACT_AT} lines, {@link #compactIfDue}
 * rewrites it with the newest {@link Ledger#MAX_KEYS} (tmp + fsync + rename + directory fsync),
 * once per that many keyed reservations, off the appends' path.
 *
 * <p>The daemon appends on the thread that seals its batches, in their order, while another
 * thread installs earlier batches ({@link #committed}, {@link #abandoned}) and syncs, and a
 * third compacts: an append is one write into an open channel, under this object's monitor,
 * which a compaction holds only to move the lines appended meanwhile and swap the file.
 */
public final class KeyLog {
    public static final String FILE = "keys.log";
    /** Lines after which the next append first compacts the file to the newest {@link Ledger#MAX_KEYS}. */
    static final int COMPACT_AT = 2 * Ledger.MAX_KEYS;
    /** What a compaction reads first, from the end: MAX_KEYS lines of keys up to ~200 characters. */
    private static final long COMPACT_WINDOW = 4L << 20;

    private final Path file;
    private final Json json;
    private final JsonWriter line = new JsonWriter(256);
    /** The channel appends go to, opened on first use and again after the file was replaced; its file's key. */
    private FileChannel out;

    private Object outKey;
    /** {@link #out}'s size when known (this process wrote its end), else -1. */
    private long outSize = -1;
    /** End of the last line of a durable batch; -1 until the file was read. */
    private long validEnd = -1;
    /** Lines before {@link #validEnd}. */
    private int lines;
    /** Whether bytes may follow {@link #tail} (a torn line, a failed or abandoned batch). */
    private boolean staleTail;
    /**
     * Batches appended and not yet committed or abandoned, oldest first: the daemon prepares a
     * batch while the one before it is being installed, so up to a few are pending at once.
     */
    private final ArrayDeque<Segment> pending = new ArrayDeque<>();

    /** Appends made without a sync ({@link #append} with {@code sync} false), and how many of them {@link #sync} covered. */
    private long unsynced;

    private long synced;
    /**
     * Compactions that swapped the file, and whether one did since the last {@link #sync}: the
     * lines it copied after the fsynced ones are not synced in the new file, nor is its name.
     */
    private long swaps;

    private boolean swapped;

    /** One pending batch's lines: they end at {@code end}, with {@code lines} lines before it. */
    private record Segment(long generation, long end, int lines) {}

    public KeyLog(Path dir, Json json) {
        this.file = dir.resolve(FILE);
        this.json = json;
    }

    public Path path() {
        return file;
    }

    /**
     * The keys of batches up to generation {@code durable} (counters.json's), oldest first, the
     * newest {@link Ledger#MAX_KEYS} of them; a key listed twice (forgotten, then used again)
     * counts as its latest line. Lines after the first newer or unreadable one are ignored and
     * cut off by the next append.
     */
    public synchronized List<Ledger.KeyRecord> load(long durable) {
        byte[] bytes =
                DurableFiles.readIfExists(file, LinkOption.NOFOLLOW_LINKS).orElse(new byte[0]);
        Map<String, Ledger.KeyRecord> keys = new LinkedHashMap<>();
        int pos = 0;
        int count = 0;
        while (pos < bytes.length) {
            int nl = indexOf(bytes, (byte) '\n', pos);
            if (nl < 0) {
                break; // torn by a crash
            }
            Stamped s = parse(bytes, pos, nl - pos);
            if (s == null || s.generation() > durable) {
                break; // the batch of this line (and so of every later one) is not in counters.json
            }
            keys.remove(s.record().key());
            keys.put(s.record().key(), s.record());
            count++;
            pos = nl + 1;
        }
        validEnd = pos;
        lines = count;
        staleTail = pos < bytes.length;
        pending.clear();
        closeOut();
        return newest(keys.values());
    }

    /** Whether bytes may need cutting off before the next batch (what {@link #load} ignored; unknown before a load). */
    synchronized boolean hasStaleTail() {
        return staleTail || validEnd < 0;
    }

    /** Where the next batch's lines go: after the last pending batch, else after the last durable one. */
    private long tail() {
        Segment last = pending.peekLast();
        return last == null ? validEnd : last.end();
    }

    /** The newest {@link Ledger#MAX_KEYS} of {@code keys} (oldest first), without those older than {@link Ledger#KEY_TTL} before the newest. */
    private static List<Ledger.KeyRecord> newest(Collection<Ledger.KeyRecord> keys) {
        List<Ledger.KeyRecord> all = new ArrayList<>(keys);
        List<Ledger.KeyRecord> kept = all.subList(Math.max(0, all.size() - Ledger.MAX_KEYS), all.size());
        if (kept.isEmpty()) {
            return List.of();
        }
        Instant horizon = kept.get(kept.size() - 1).at().minus(Ledger.KEY_TTL);
        List<Ledger.KeyRecord> out = new ArrayList<>(kept.size());
        for (Ledger.KeyRecord k : kept) {
            if (!k.at().isBefore(horizon)) {
                out.add(k);
            }
        }
        return List.copyOf(out);
    }

    /**
     * Appends the keys {@code records} of the batch of generation {@code generation} after the
     * batches appended before it (cutting off whatever else follows them), and syncs the file
     * (fdatasync). Does nothing when there is nothing to append or cut. The caller renames
     * counters.json only after this returned, then calls {@link #committed} (or {@link #abandoned}
     * when the batch failed). A new file's name needs no directory fsync of its own:
     * counters.json's rename is synced after it (directory fsync), and without that rename the
     * lines do not count.
     */
    public void append(long generation, List<Ledger.KeyRecord> records) {
        append(generation, records, true);
    }

    /**
     * {@link #append(long, List)}, without the fdatasync unless {@code sync}: for the daemon,
     * whose counters.json carries the audit lines of every batch since the last {@link #sync}
     * (each reservation's line holds its key), so a load can put back what a power loss took
     * ({@link #restore}).
     */
    public synchronized void append(long generation, List<Ledger.KeyRecord> records, boolean sync) {
        if (validEnd < 0) {
            load(generation - 1);
        }
        if (records.isEmpty() && !staleTail) {
            return;
        }
        long at = tail();
        int before = pending.isEmpty() ? lines : pending.peekLast().lines();
        staleTail = true; // until this append completes
        encode(generation, records);
        try {
            FileChannel ch = out();
            if (outSize != at) {
                ch.truncate(at);
            }
            outSize = -1; // until the write is whole
            ByteBuffer buf = ByteBuffer.wrap(line.array(), 0, line.length());
            long pos = at;
            while (buf.hasRemaining()) {
                pos += ch.write(buf, pos);
            }
            outSize = pos;
            if (sync) {
                ch.force(false);
            }
        } catch (IOException e) {
            closeOut();
            throw DurableFiles.appendFailed(file, e);
        }
        pending.addLast(new Segment(generation, at + line.length(), before + records.size()));
        staleTail = false;
        if (!sync) {
            unsynced++;
        }
    }

    /**
     * fdatasync of the lines appended without one (see {@link #append(long, List, boolean)});
     * nothing when there are none. After a compaction swapped the file, also of the lines it
     * copied, and the directory's fsync (its name). Fails when keys.log is no longer the file
     * they went to (removed or replaced by hand): those lines are then lost, and only a load
     * restores them. A compaction that swaps the file meanwhile makes it sync the new one.
     */
    public void sync() {
        for (int attempt = 0; ; attempt++) {
            long upTo;
            long epoch;
            boolean directory;
            FileChannel ch;
            Object key;
            synchronized (this) {
                if (unsynced == synced && !swapped) {
                    return;
                }
                upTo = unsynced;
                epoch = swaps;
                directory = swapped;
                try {
                    ch = out();
                } catch (IOException e) {
                    throw DurableFiles.appendFailed(file, e);
                }
                key = outKey;
            }
            try {
                ch.force(false);
                Object now;
                try {
                    now = fileKey();
                } catch (NoSuchFileException gone) {
                    now = null;
                }
                if (!key.equals(now)) {
                    synchronized (this) {
                        if (swaps != epoch) {
                            continue; // a compaction replaced it: sync the new file
                        }
                    }
                    throw new IOException("keys.log was removed or replaced while this process wrote to it");
                }
                if (directory) {
                    DurableFiles.syncDirectory(file);
                }
            } catch (ClosedChannelException e) {
                synchronized (this) {
                    if (swaps != epoch || (out != ch && attempt < 3)) {
                        // A compaction closed it (the new file holds the lines), or a failed
                        // append did (a new channel on the same file syncs them as well).
                        continue;
                    }
                }
                throw DurableFiles.appendFailed(file, e);
            } catch (IOException e) {
                throw DurableFiles.appendFailed(file, e);
            }
            synchronized (this) {
                if (swaps != epoch) {
                    continue; // swapped meanwhile: the lines are now in a file not synced yet
                }
                synced = Math.max(synced, upTo);
                swapped &= !directory;
                return;
            }
        }
    }

    /** Whether {@link #compactIfDue} would compact now. */
    public synchronized boolean compactionDue() {
        return validEnd >= 0 && lines >= COMPACT_AT;
    }

    /**
     * Once the file holds {@link #COMPACT_AT} lines of durable batches: rewrites it with the
     * newest {@link Ledger#MAX_KEYS} of them, copied as they are (a key listed twice may keep both
     * lines; a load takes the latest, and the age bound applies at load), followed by the lines
     * appended after them (batches in flight). The copy is written and fsynced beside the file
     * while appends go on; then, under the monitor, the lines appended meanwhile are copied too
     * and it is renamed over keys.log; then the directory is fsynced. The lines copied under
     * the monitor are not synced there: the next {@link #sync} syncs them, and the directory,
     * before the audit lines that hold their keys stop being carried. One compaction at a time
     * (the daemon's compaction thread, or the fallback after its commit).
     *
     * @return whether it rewrote the file
     * @throws IOException before the rename: keys.log is unchanged (the temporary file removed)
     * @throws DurableFiles.NotDurable the directory's fsync after the rename failed: the lines
     *     appended since may be lost with the rename by a power loss
     */
    public boolean compactIfDue() throws IOException {
        long end;
        int endLines;
        synchronized (this) {
            if (validEnd < 0 || lines < COMPACT_AT) {
                return false;
            }
            end = validEnd;
            endLines = lines;
        }
        // The bytes before the end of the durable lines do not change: appends go after them,
        // and only what follows them is ever cut off. Read from the end backwards, a window
        // at a time, until it holds the newest MAX_KEYS lines: however far the appends ran
        // ahead, a compaction reads about what it keeps.
        byte[] window;
        int start;
        int kept;
        long size = Math.min(end, COMPACT_WINDOW);
        while (true) {
            window = readRange(end - size, (int) size);
            start = window.length;
            kept = 0;
            while (kept < Ledger.MAX_KEYS && start > 0) {
                int nl = start - 2; // start - 1 ends the line before
                while (nl >= 0 && window[nl] != '\n') {
                    nl--;
                }
                if (nl < 0 && size < end) {
                    break; // the line may begin before the window
                }
                start = nl + 1;
                kept++;
            }
            if (kept == Ledger.MAX_KEYS || size == end) {
                break;
            }
            size = Math.min(end, size * 2);
            if (size > DurableFiles.MAX_READ_BYTES) {
                throw new IOException(file + ": not " + Ledger.MAX_KEYS + " lines in its last "
                        + DurableFiles.MAX_READ_BYTES + " bytes");
            }
        }
        Path tmp = DurableFiles.tmpFor(file);
        DurableFiles.prepare(tmp, Arrays.copyOfRange(window, start, window.length));
        long shift = end - window.length + start;
        int dropped = endLines - kept;
        synchronized (this) {
            try {
                long tailEnd = tail();
                if (tailEnd > end) { // appended since: so far only in the old file (batches in flight: small)
                    ByteBuffer moved = ByteBuffer.wrap(readRange(end, (int) (tailEnd - end)));
                    try (FileChannel to = FileChannel.open(tmp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                        // read and write, not transferTo (copy_file_range): the crash tests model write(2)
                        for (long at = end - shift; moved.hasRemaining(); ) {
                            at += to.write(moved, at);
                        }
                    }
                }
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException | RuntimeException e) {
                DurableFiles.discard(tmp);
                throw e;
            }
            closeOut();
            validEnd -= shift;
            lines -= dropped;
            List<Segment> moved = new ArrayList<>(pending.size());
            for (Segment p : pending) {
                moved.add(new Segment(p.generation(), p.end() - shift, p.lines() - dropped));
            }
            pending.clear();
            pending.addAll(moved);
            staleTail = false; // what followed the tail was not copied
            swaps++;
            swapped = true;
        }
        DurableFiles.syncDirectory(file);
        return true;
    }

    /** {@code length} bytes of the file from {@code from}; fails when it holds fewer. */
    private byte[] readRange(long from, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            while (buf.hasRemaining()) {
                if (ch.read(buf, from + buf.position()) < 0) {
                    throw new IOException(file + " is shorter than the lines this process wrote to it");
                }
            }
        }
        return buf.array();
    }

    /** The open append channel; under the monitor. */
    private FileChannel out() throws IOException {
        if (out == null) {
            out = FileChannel.open(
                    file,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE,
                    StandardOpenOption.READ, // the compaction copies from it
                    LinkOption.NOFOLLOW_LINKS); // a link is refused
            outKey = fileKey();
            outSize = -1;
        }
        return out;
    }

    private Object fileKey() throws IOException {
        return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                .fileKey();
    }

    private void closeOut() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // nothing is pending in it: every write completed or failed already
            }
            out = null;
            outSize = -1;
        }
    }

    /** Closes the append channel. */
    public synchronized void close() {
        closeOut();
    }

    /**
     * At a load, before anything is written: appends (synced) the keys of {@code lines}, the
     * audit lines counters.json of generation {@code durable} carries, that keys.log lacks. Those
     * batches are durable, but the daemon appended their key lines without a sync: a power loss
     * may have taken them. Returns {@link #load}'s keys when it read the file (the lines held
     * keys), else null: the caller loads them, so keys.log is parsed once per load.
     */
    public List<Ledger.KeyRecord> restore(byte[] lines, long durable) {
        List<AuditEntry> keyed = new ArrayList<>();
        for (int pos = 0, nl; pos < lines.length; pos = nl + 1) {
            nl = indexOf(lines, (byte) '\n', pos);
            if (nl < 0) {
                break;
            }
            if (Bytes.indexOf(lines, KEY_FIELD, pos, nl) >= 0) {
                AuditEntry e = AuditEntry.parse(lines, pos, nl - pos, json);
                if (e != null) {
                    keyed.add(e);
                }
            }
        }
        List<Ledger.KeyRecord> carried = records(keyed);
        if (carried.isEmpty()) {
            return null;
        }
        synchronized (this) {
            List<Ledger.KeyRecord> loaded = load(durable);
            Map<String, Ledger.KeyRecord> have = new java.util.HashMap<>();
            loaded.forEach(k -> have.put(k.key(), k));
            List<Ledger.KeyRecord> missing = new ArrayList<>();
            for (Ledger.KeyRecord k : carried) {
                Ledger.KeyRecord h = have.get(k.key());
                if (h == null || !h.prefix().equals(k.prefix()) || h.first() != k.first() || h.count() != k.count()) {
                    missing.add(k);
                }
            }
            if (missing.isEmpty()) {
                return loaded;
            }
            append(durable, missing, true);
            committed(durable);
            return load(durable);
        }
    }

    private static final byte[] KEY_FIELD = "\"key\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** The batch of {@code generation} is durable (its counters.json was renamed and the directory synced). */
    public synchronized void committed(long generation) {
        Segment oldest = pending.peekFirst();
        if (oldest != null && oldest.generation() == generation) {
            pending.removeFirst();
            validEnd = oldest.end();
            lines = oldest.lines();
        }
    }

    /** The batch of {@code generation} failed: its lines, and those of every batch after it, are cut off by the next append. */
    public synchronized void abandoned(long generation) {
        pending.removeIf(p -> p.generation() >= generation);
        staleTail = true;
    }

    /**
     * Rewrites the file with {@code extra} (keys kept in an older counters.json, tagged with
     * generation 0) and the keys of batches up to {@code durable}, durably (tmp + fsync + rename
     * + directory fsync). Moves the keys of an older version's counters.json here before
     * counters.json is written without them.
     */
    public synchronized void rewrite(List<Ledger.KeyRecord> extra, long durable) {
        Map<String, Long> generations = new LinkedHashMap<>();
        Map<String, Ledger.KeyRecord> keys = new LinkedHashMap<>();
        extra.forEach(k -> {
            keys.put(k.key(), k);
            generations.put(k.key(), 0L);
        });
        readValid(durable, (g, k) -> {
            keys.remove(k.key());
            keys.put(k.key(), k);
            generations.put(k.key(), g);
        });
        replace(keys.values(), generations);
    }

    private void replace(Collection<Ledger.KeyRecord> keys, Map<String, Long> generations) {
        JsonWriter w = new JsonWriter(keys.size() * 112 + 16);
        for (Ledger.KeyRecord k : keys) {
            writeLine(w, generations.get(k.key()), k);
        }
        byte[] bytes = w.toBytes();
        write(bytes);
        validEnd = bytes.length;
        lines = keys.size();
        staleTail = false;
        pending.clear();
    }

    private void write(byte[] bytes) {
        closeOut();
        try {
            DurableFiles.write(DurableFiles.tmpFor(file), file, bytes);
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "could not rewrite " + file + " (" + DurableFiles.explain(file, e)
                            + "); nothing was acknowledged. Fix the disk and retry.",
                    Map.of("file", file.toString()),
                    e);
        }
    }

    private interface Sink {
        void accept(long generation, Ledger.KeyRecord record);
    }

    private void readValid(long durable, Sink sink) {
        byte[] bytes =
                DurableFiles.readIfExists(file, LinkOption.NOFOLLOW_LINKS).orElse(new byte[0]);
        int pos = 0;
        while (pos < bytes.length) {
            int nl = indexOf(bytes, (byte) '\n', pos);
            Stamped s = nl < 0 ? null : parse(bytes, pos, nl - pos);
            if (s == null || s.generation() > durable) {
                return;
            }
            sink.accept(s.generation(), s.record());
            pos = nl + 1;
        }
    }

    /** The key records of a batch: its reservations made with a key, from their audit entries. */
    public static List<Ledger.KeyRecord> records(List<AuditEntry> entries) {
        List<Ledger.KeyRecord> out = null;
        for (AuditEntry e : entries) {
            if (e.key() != null && "reserve".equals(e.op())) {
                if (out == null) {
                    out = new ArrayList<>(4);
                }
                out.add(new Ledger.KeyRecord(e.key(), e.prefix(), e.to() - e.from(), e.from() + 1, e.time()));
            }
        }
        return out == null ? List.of() : out;
    }

    private record Stamped(long generation, Ledger.KeyRecord record) {}

    /** One line back, or null when it is not a whole key line. */
    private Stamped parse(byte[] bytes, int offset, int length) {
        try {
            Map<String, Object> m = json.readObject(bytes, offset, length);
            if (m.get("gen") instanceof Long g
                    && m.get("key") instanceof String key
                    && m.get("prefix") instanceof String prefix
                    && m.get("count") instanceof Long count
                    && m.get("first") instanceof Long first
                    && m.get("at") instanceof String at
                    && g >= 0
                    && count > 0
                    && first > 0) {
                return new Stamped(g, new Ledger.KeyRecord(key, prefix, count, first, Timestamps.parse(at)));
            }
            return null;
        } catch (JsonException | DateTimeParseException e) {
            return null;
        }
    }

    private static int indexOf(byte[] bytes, byte b, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** A key's fields, as in keys.log and in an older version's counters.json. */
    static void writeFields(JsonGenerator g, Ledger.KeyRecord k) throws IOException {
        g.writeStringField("key", k.key());
        g.writeStringField("prefix", k.prefix());
        g.writeNumberField("count", k.count());
        g.writeNumberField("first", k.first());
        g.writeStringField("at", Timestamps.format(k.at()));
    }

    /** The lines of {@code records} into {@link #line}. */
    private void encode(long generation, List<Ledger.KeyRecord> records) {
        line.reset();
        for (Ledger.KeyRecord k : records) {
            writeLine(line, generation, k);
        }
    }

    private static void writeLine(JsonWriter w, long generation, Ledger.KeyRecord k) {
        w.startObject();
        w.field("gen", generation);
        w.field("key", k.key());
        w.field("prefix", k.prefix());
        w.field("count", k.count());
        w.field("first", k.first());
        w.name("at").timestamp(k.at());
        w.endObject();
        w.newline();
    }
}
