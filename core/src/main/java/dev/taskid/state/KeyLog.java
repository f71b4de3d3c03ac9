package dev.taskid.state;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.taskid.allocator.Ledger;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.json.Timestamps;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
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
 * process). Bounded: once the file holds {@link #COMPACT_AT} lines it is rewritten with the
 * newest {@link Ledger#MAX_KEYS} (tmp + fsync + rename), once per that many keyed reservations.
 *
 * <p>One appender at a time (the lock holder's persisting thread); {@link #committed} and
 * {@link #abandoned} may come from another thread (the daemon installs batch k while it
 * prepares batch k+1), so the bookkeeping is guarded, the I/O is not.
 */
public final class KeyLog {
    public static final String FILE = "keys.log";
    /** Lines after which the next append first compacts the file to the newest {@link Ledger#MAX_KEYS}. */
    static final int COMPACT_AT = 2 * Ledger.MAX_KEYS;

    private final Path file;
    private final Json json;
    private final Line line = new Line();
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
    public void append(long generation, List<Ledger.KeyRecord> records, boolean sync) {
        long at;
        int before;
        synchronized (this) {
            if (validEnd < 0) {
                load(generation - 1);
            }
            if (records.isEmpty() && !staleTail) {
                return;
            }
            if (pending.isEmpty() && lines + records.size() > COMPACT_AT) {
                compact(); // never under a pending batch: it would move that batch's lines
            }
            at = tail();
            before = pending.isEmpty() ? lines : pending.peekLast().lines();
            staleTail = true; // until this append completes
        }
        byte[] bytes = line.encode(generation, records);
        try (FileChannel ch = FileChannel.open(
                file,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) { // a link is refused
            if (ch.size() != at) {
                ch.truncate(at);
            }
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            long pos = at;
            while (buf.hasRemaining()) {
                pos += ch.write(buf, pos);
            }
            if (sync) {
                ch.force(false);
            }
        } catch (IOException e) {
            throw DurableFiles.appendFailed(file, e);
        }
        synchronized (this) {
            pending.addLast(new Segment(generation, at + bytes.length, before + records.size()));
            staleTail = false;
            if (!sync) {
                unsynced++;
            }
        }
    }

    /** fdatasync of the lines appended without one (see {@link #append(long, List, boolean)}); nothing when there are none. */
    public void sync() {
        long upTo;
        synchronized (this) {
            if (unsynced == synced) {
                return;
            }
            upTo = unsynced;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ch.force(false);
        } catch (IOException e) {
            throw DurableFiles.appendFailed(file, e);
        }
        synchronized (this) {
            synced = Math.max(synced, upTo);
        }
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

    /**
     * Rewrites the file with its newest {@link Ledger#MAX_KEYS} lines, copied as they are (no
     * parsing: it runs once per that many keyed reservations, on the persist path); the
     * caller made sure every line is of a durable batch (nothing pending). A key listed twice
     * may keep both lines (a load takes the latest), and the age bound applies at load.
     */
    private void compact() {
        byte[] bytes =
                DurableFiles.readIfExists(file, LinkOption.NOFOLLOW_LINKS).orElse(new byte[0]);
        int end = (int) Math.min(validEnd, bytes.length);
        int start = end;
        int kept = 0;
        while (start > 0 && kept < Ledger.MAX_KEYS) {
            int nl = start - 2; // start - 1 ends the line before
            while (nl >= 0 && bytes[nl] != '\n') {
                nl--;
            }
            start = nl + 1;
            kept++;
        }
        byte[] newest = java.util.Arrays.copyOfRange(bytes, start, end);
        write(newest);
        validEnd = newest.length;
        lines = kept;
        staleTail = false;
        pending.clear();
    }

    private void replace(Collection<Ledger.KeyRecord> keys, Map<String, Long> generations) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(keys.size() * 112 + 16);
        for (Ledger.KeyRecord k : keys) {
            out.writeBytes(line.encode(generations.get(k.key()), List.of(k)));
        }
        byte[] bytes = out.toByteArray();
        write(bytes);
        validEnd = bytes.length;
        lines = keys.size();
        staleTail = false;
        pending.clear();
    }

    private void write(byte[] bytes) {
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

    /** Encodes lines into one reused buffer. */
    private final class Line {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

        byte[] encode(long generation, List<Ledger.KeyRecord> records) {
            out.reset();
            try (JsonGenerator g = json.factory().createGenerator(out)) {
                g.setRootValueSeparator(null); // the newline ends each line, no space before the next
                for (Ledger.KeyRecord k : records) {
                    g.writeStartObject();
                    g.writeNumberField("gen", generation);
                    writeFields(g, k);
                    g.writeEndObject();
                    g.writeRaw('\n');
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e); // writing to memory does not fail
            }
            return out.toByteArray();
        }
    }
}
