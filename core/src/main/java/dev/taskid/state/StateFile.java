package dev.taskid.state;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.taskid.allocator.Ledger;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.TaskId;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * {@code counters.json}: read and written only by the holder of the {@link StateLock}.
 *
 * <pre>{"version":1,"gen":42,"counters":{"SEC":19}}</pre>
 *
 * <p>{@code gen} numbers the writes (see {@link Ledger#generation}): the idempotency keys live in
 * {@link KeyLog} ({@code keys.log}), each tagged with the generation of its batch, and count only
 * up to this file's. Files of older versions have no {@code gen} (0) and may hold the keys in a
 * {@code "keys"} array; they are read, and {@link StateStore#load} moves such keys into keys.log.
 *
 * <p>A file with active numbers of wrapped prefixes is version 2:
 * {@code "active":{"PROJECT":{"42":1042}}} (number → position that handed it out). Version 1
 * files (no active numbers) still load; version 2 makes a taskid that does not know active
 * numbers refuse the file instead of silently dropping them on its next write.
 *
 * <p>Writes are durable before they return: write {@code counters.json.<pid>.tmp}, fsync it, rename
 * it over {@code counters.json}, fsync the directory. A file that cannot be read back is
 * never overwritten: it is reported as STATE_CORRUPT and a copy is kept beside it.
 */
public final class StateFile {
    public static final int VERSION = 1;
    /** The version written when the ledger tracks active numbers. */
    public static final int VERSION_ACTIVE = 2;

    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final Path file;
    private final Path previous;
    private final Path dir;
    private final Json json;
    private final Clock clock;
    /** The daemon's temporary files, reused from batch to batch. */
    private final TmpSlots slots;
    /** Reused by {@link #encode}: the daemon encodes the state once per batch. */
    private final java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream(512);

    public StateFile(Path file, Json json, Clock clock) {
        this.file = file;
        this.previous = file.resolveSibling(file.getFileName() + ".prev");
        this.dir = file.toAbsolutePath().getParent();
        this.json = json;
        this.clock = clock;
        this.slots = new TmpSlots(file);
    }

    public Path path() {
        return file;
    }

    /** {@code counters.json.prev}: a known-good copy, see {@link #backup}. */
    public Path previous() {
        return previous;
    }

    /** The stored ledger, or empty when the file does not exist yet. */
    public Optional<Ledger> read() {
        return readStored().map(Stored::ledger);
    }

    /** What counters.json holds: the ledger and the audit lines of the write that made it (see {@link #withAudit}). */
    public record Stored(Ledger ledger, byte[] auditLines) {}

    /** {@link #read}, with the audit lines the file carries. */
    public Optional<Stored> readStored() {
        Optional<byte[]> read = DurableFiles.readIfExists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if (read.isEmpty()) {
            return Optional.empty();
        }
        byte[] bytes = read.get();
        try {
            return Optional.of(new Stored(parse(bytes), auditLines(bytes)));
        } catch (JsonException | IllegalArgumentException | ClassCastException | DateTimeParseException e) {
            throw corrupt(bytes, e.getMessage());
        }
    }

    private static final byte[] AUDIT_FIELD = ",\"audit\":[".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * {@code counters} ({@link #encode}d) carrying {@code lines}, the batch's audit lines
     * ({@link AuditLog#encode}), as its last field: {@code ,"audit":[<line>\n,<line>\n]}. The
     * writer appends the lines to audit.log after the rename (so audit.log is never ahead of a
     * durable counters.json) and need not sync them before it answers: until they are durable
     * there, the durable counters.json has them, and the next load puts them into audit.log
     * ({@link AuditLog#ensureEndsWith}) before anything else is written. A line holds no raw
     * newline (JSON escapes it), so the lines come back byte for byte.
     */
    public static byte[] withAudit(byte[] counters, byte[] lines) {
        return withAudit(counters, List.of(lines));
    }

    /** {@link #withAudit(byte[], byte[])} of the lines of several batches, oldest first, copied once. */
    static byte[] withAudit(byte[] counters, List<byte[]> batches) {
        int size = 0;
        for (byte[] lines : batches) {
            size += lines.length;
        }
        if (size == 0) {
            return counters;
        }
        int end = counters.length - 2; // the encoding ends with "}\n"
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(end + size + size / 64 + 64);
        out.write(counters, 0, end);
        out.writeBytes(AUDIT_FIELD);
        boolean first = true;
        for (byte[] lines : batches) {
            int from = 0;
            for (int i = 0; i < lines.length; i++) {
                if (lines[i] == '\n') {
                    if (!first) {
                        out.write(',');
                    }
                    out.write(lines, from, i + 1 - from);
                    first = false;
                    from = i + 1;
                }
            }
        }
        out.writeBytes(new byte[] {']', '}', '\n'});
        return out.toByteArray();
    }

    /** The audit lines {@link #withAudit} put into {@code bytes} (a parsed file), as they were; empty when none. */
    static byte[] auditLines(byte[] bytes) {
        int start = Bytes.indexOf(bytes, AUDIT_FIELD, 0, bytes.length);
        if (start < 0) {
            return new byte[0];
        }
        int from = start + AUDIT_FIELD.length;
        int to = bytes.length;
        while (to > from && bytes[to - 1] != ']') {
            to--;
        }
        to--; // the array's ']'
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(Math.max(0, to - from));
        for (int i = from; i < to; i++) {
            if (!(bytes[i] == ',' && i > from && bytes[i - 1] == '\n')) {
                out.write(bytes[i]);
            }
        }
        byte[] lines = out.toByteArray();
        if (lines.length == 0 || lines[lines.length - 1] != '\n') {
            throw new IllegalArgumentException("\"audit\" is not the audit lines of the last write");
        }
        return lines;
    }

    /**
     * What a file in this format holds (this file, a corrupt copy, a leftover .tmp), read
     * without side effects: no lock needed (files are replaced by rename, so a read sees one
     * whole version), no corrupt copy made. {@code ledger} is null when the file is missing
     * ({@code exists} false) or unreadable ({@code problem} says why).
     */
    public record Inspection(Path path, boolean exists, Ledger ledger, String problem) {
        public boolean readable() {
            return ledger != null;
        }
    }

    /**
     * Inspects {@code other}, a file in counters.json's format; see {@link Inspection}. Read
     * without the lock, so a file a writer replaced while it was being read (the daemon
     * rewrites the inodes it replaced, see {@link TmpSlots}) is read again, a few times at most.
     */
    public Inspection inspect(Path other) {
        Inspection seen = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            Object before = fileKey(other);
            seen = inspectOnce(other);
            if (seen.ledger() != null || !seen.exists() || java.util.Objects.equals(before, fileKey(other))) {
                return seen;
            }
        }
        return seen;
    }

    private static Object fileKey(Path file) {
        try {
            return Files.readAttributes(
                            file,
                            java.nio.file.attribute.BasicFileAttributes.class,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private Inspection inspectOnce(Path other) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(other);
        } catch (NoSuchFileException e) {
            return new Inspection(other, false, null, "missing");
        } catch (IOException e) {
            return new Inspection(other, true, null, "cannot read: " + e.getMessage());
        }
        try {
            return new Inspection(other, true, parse(bytes), null);
        } catch (JsonException
                | IllegalArgumentException
                | ClassCastException
                | DateTimeParseException
                | NullPointerException e) {
            return new Inspection(other, true, null, String.valueOf(e.getMessage()));
        }
    }

    private Ledger parse(byte[] bytes) throws JsonException {
        Map<String, Object> obj = json.readObject(bytes, 0, bytes.length);
        if (!(obj.get("version") instanceof Long v) || (v != VERSION && v != VERSION_ACTIVE)) {
            throw new IllegalArgumentException("unsupported version " + obj.get("version") + " (expected " + VERSION
                    + " or " + VERSION_ACTIVE + ")");
        }
        if (!(obj.get("counters") instanceof Map<?, ?> counters)) {
            throw new IllegalArgumentException("no \"counters\" object");
        }
        TreeMap<String, Long> values = new TreeMap<>();
        for (Map.Entry<?, ?> e : counters.entrySet()) {
            String prefix = (String) e.getKey();
            if (!TaskId.isPrefix(prefix)) {
                throw new IllegalArgumentException("invalid prefix " + prefix);
            }
            values.put(prefix, number(e.getValue(), prefix));
        }
        long generation = obj.containsKey("gen") ? number(obj.get("gen"), "gen") : 0;
        List<Ledger.KeyRecord> keys = new ArrayList<>();
        if (obj.get("keys") instanceof List<?> list) {
            for (Object o : list) {
                if (!(o instanceof Map<?, ?> k)) {
                    throw new IllegalArgumentException("a key record is not an object: " + o);
                }
                keys.add(new Ledger.KeyRecord(
                        text(k.get("key"), "key"),
                        text(k.get("prefix"), "key prefix"),
                        number(k.get("count"), "count"),
                        number(k.get("first"), "first"),
                        Instant.parse(text(k.get("at"), "key time"))));
            }
        }
        return new Ledger(values, keys, activeNumbers(obj.get("active")), generation);
    }

    /** {@code "active":{"PREFIX":{"42":1042}}}; absent in version 1 files. */
    private static Map<String, Map<Long, Long>> activeNumbers(Object value) {
        Map<String, Map<Long, Long>> out = new TreeMap<>();
        if (value == null) {
            return out;
        }
        if (!(value instanceof Map<?, ?> prefixes)) {
            throw new IllegalArgumentException("\"active\" is not an object");
        }
        for (Map.Entry<?, ?> e : prefixes.entrySet()) {
            String prefix = (String) e.getKey();
            if (!TaskId.isPrefix(prefix) || !(e.getValue() instanceof Map<?, ?> active)) {
                throw new IllegalArgumentException("invalid entry " + prefix + " in \"active\"");
            }
            Map<Long, Long> numbers = new TreeMap<>();
            for (Map.Entry<?, ?> n : active.entrySet()) {
                long number = number(Long.parseLong((String) n.getKey()), "active number");
                numbers.put(number, number(n.getValue(), "position of active number " + number));
            }
            out.put(prefix, numbers);
        }
        return out;
    }

    /** A string field that must be there: a missing one is a corrupt file, not a NullPointerException. */
    private static String text(Object value, String what) {
        if (!(value instanceof String s)) {
            throw new IllegalArgumentException(what + " is not a string: " + value);
        }
        return s;
    }

    private static long number(Object value, String what) {
        if (!(value instanceof Long l) || l < 0 || l > Protocol.MAX_NUMBER) {
            throw new IllegalArgumentException(
                    what + " is not a number from 0 to " + Protocol.MAX_NUMBER + ": " + value);
        }
        return l;
    }

    private TaskIdException corrupt(byte[] bytes, String why) {
        String kept = keepCopy(bytes);
        return new TaskIdException(
                ErrorCode.STATE_CORRUPT,
                file + " is unreadable (" + why + "). It was left untouched" + kept + " and nothing was allocated. "
                        + "To recover: `taskid recover` shows the counters it would rebuild from the audit log, "
                        + "TASKS.md and counters.json.prev (never below any of them) and writes them with --yes.",
                Map.of("file", file.toString()),
                null);
    }

    /** Copies the unreadable file aside once per distinct content; returns a note for the message. */
    private String keepCopy(byte[] bytes) {
        try (DirectoryStream<Path> copies = Files.newDirectoryStream(dir, file.getFileName() + ".corrupt-*")) {
            for (Path copy : copies) {
                if (java.util.Arrays.equals(Files.readAllBytes(copy), bytes)) {
                    return "; a copy is at " + copy;
                }
            }
            Path copy = file.resolveSibling(file.getFileName() + ".corrupt-" + STAMP.format(clock.instant()));
            Files.write(copy, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            return "; a copy was saved as " + copy;
        } catch (IOException e) {
            return " (a copy could not be saved: " + e.getMessage() + ")";
        }
    }

    /** Writes the ledger durably (not its keys: {@link KeyLog}); on failure the old file is intact and SYSTEM_ERROR is thrown. */
    public void write(Ledger ledger) {
        write(encode(ledger));
    }

    /** {@link #write(Ledger)} of bytes {@link #encode} made earlier (possibly on another thread). */
    public void write(byte[] encoded) {
        save(file, encoded);
    }

    /**
     * Writes the ledger with its keys inside, as older versions did: for merging an older state
     * ({@link LegacyState}), whose keys {@link StateStore#load} then moves into keys.log.
     */
    void writeWithKeys(Ledger ledger) {
        save(file, encode(ledger, true));
    }

    /**
     * Writes {@code counters.json.prev}, a known-good copy for {@code taskid recover} (the
     * daemon makes one at each start, from the counters it loaded). Durable like {@link #write}.
     */
    public void backup(Ledger ledger) {
        save(previous, encode(ledger));
    }

    /**
     * The first half of {@link #write(byte[])}: writes and fsyncs counters.json's temporary
     * file number {@code slot} (one per batch prepared at once); {@link #install} renames it,
     * {@link #discard} drops it. Lets the caller sync other files at the same time, and prepare
     * the next batch's file while this one is installed.
     */
    public void prepare(byte[] encoded, int slot) {
        try {
            DurableFiles.prepare(DurableFiles.tmpFor(file, slot), encoded);
        } catch (IOException e) {
            throw notSaved(file, e);
        }
    }

    /** The second half of {@link #write(byte[])}: renames the prepared file over counters.json, fsyncs the directory. */
    public void install(int slot) {
        try {
            DurableFiles.install(DurableFiles.tmpFor(file, slot), file);
        } catch (DurableFiles.NotDurable e) {
            throw notDurable(file, e);
        } catch (IOException e) {
            throw notSaved(file, e);
        }
    }

    /** Drops a prepared file that will not be installed. */
    public void discard(int slot) {
        DurableFiles.discard(DurableFiles.tmpFor(file, slot));
    }

    /**
     * {@link #prepare} for a long-lived writer (the daemon): the temporary file number
     * {@code slot} is an earlier counters.json, overwritten in place (see {@link TmpSlots});
     * {@link #installReusing} renames it.
     */
    public void prepareReusing(byte[] encoded, int slot) {
        try {
            slots.prepare(slot, encoded);
        } catch (IOException e) {
            throw notSaved(file, e);
        }
    }

    /** {@link #install} of a file {@link #prepareReusing} wrote, keeping the replaced counters.json for reuse. */
    public void installReusing(int slot) {
        try {
            slots.install(slot);
        } catch (DurableFiles.NotDurable e) {
            throw notDurable(file, e);
        } catch (IOException e) {
            throw notSaved(file, e);
        }
    }

    /** Removes the files {@link #prepareReusing} kept (at the writer's close). */
    public void discardReused() {
        slots.discardAll();
    }

    private static void save(Path target, byte[] bytes) {
        try {
            DurableFiles.write(DurableFiles.tmpFor(target), target, bytes);
        } catch (DurableFiles.NotDurable e) {
            throw notDurable(target, e);
        } catch (IOException e) {
            throw notSaved(target, e);
        }
    }

    private static TaskIdException notDurable(Path target, DurableFiles.NotDurable e) {
        // The rename happened: the file holds the new values until a power loss, perhaps after.
        return new TaskIdException(
                ErrorCode.SYSTEM_ERROR,
                "could not make the new " + target + " durable (" + DurableFiles.explain(target.getParent(), e)
                        + "): the file was replaced, but its directory could not be synced, so a power loss may "
                        + "bring the old version back. Nothing was acknowledged: the numbers of this request were not "
                        + "handed out, and may be skipped, but are never handed out twice. "
                        + "Fix the disk (read-only mount, I/O errors) and retry.",
                Map.of("file", target.toString()),
                e);
    }

    private static TaskIdException notSaved(Path target, IOException e) {
        return new TaskIdException(
                ErrorCode.SYSTEM_ERROR,
                "could not save " + target + " (" + DurableFiles.explain(DurableFiles.tmpFor(target), e)
                        + "); nothing was allocated, the file is unchanged. "
                        + "Fix the disk (space, read-only mount, permissions) and retry.",
                Map.of("file", target.toString()),
                e);
    }

    /**
     * The bytes {@link #write} stores for {@code ledger} (one compact line: the daemon encodes it
     * for every batch, into a buffer it reuses); writes nothing.
     */
    public byte[] encode(Ledger ledger) {
        return encode(ledger, false);
    }

    private synchronized byte[] encode(Ledger ledger, boolean withKeys) {
        buffer.reset();
        try (JsonGenerator g = json.factory().createGenerator(buffer)) {
            g.writeStartObject();
            g.writeNumberField("version", ledger.activeNumbers().isEmpty() ? VERSION : VERSION_ACTIVE);
            if (ledger.generation() > 0) { // absent: 0, as in the files of older versions
                g.writeNumberField("gen", ledger.generation());
            }
            Json.writeValue(g, "counters", ledger.counters());
            if (withKeys && !ledger.keys().isEmpty()) {
                writeKeys(g, ledger);
            }
            if (!ledger.activeNumbers().isEmpty()) {
                Json.writeValue(g, "active", ledger.activeNumbers());
            }
            g.writeEndObject();
            g.writeRaw('\n');
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // writing to memory does not fail
        }
        return buffer.toByteArray();
    }

    private static void writeKeys(JsonGenerator g, Ledger ledger) throws IOException {
        g.writeArrayFieldStart("keys");
        for (Ledger.KeyRecord k : ledger.keys()) {
            g.writeStartObject();
            KeyLog.writeFields(g, k);
            g.writeEndObject();
        }
        g.writeEndArray();
    }
}
