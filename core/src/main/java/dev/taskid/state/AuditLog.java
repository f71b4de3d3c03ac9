package dev.taskid.state;

import dev.taskid.json.JsonWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * {@code .taskid/audit.log}: one JSON line per state change (a reservation that allocated, a
 * counter set or raised, numbers archived), saying who asked, when and why.
 *
 * <pre>{"time":"2026-02-19T18:00:00.000Z","op":"reserve","prefix":"SEC","ids":["SEC-20","SEC-21"],"from":19,"to":21,
 *  "purpose":"review","agent":"claude-1","key":"k1","pid":4242,"uid":1000,"mode":"daemon"}</pre>
 *
 * <p>Written only by the holder of the state lock, as the last part of one durable step
 * ({@link StateStore#install}): counters.json first, carrying the batch's lines
 * ({@link StateFile#withAudit}), then the lines in one append, synced before the next
 * counters.json replaces the one that carries them. {@code from}/{@code to} are the counter (for wrapped prefixes:
 * the position) before and after. Bounded: an append that would take the file past
 * {@code maxBytes} first renames it {@code audit.log.1} (older files shift up, at most
 * {@code keep} are kept). Readers need no lock: lines are appended whole, and an unreadable
 * line (a torn write) is skipped. The lines are {@link AuditEntry}s; {@link AuditReader} reads them.
 */
public final class AuditLog {
    public static final String FILE = "audit.log";
    public static final String DAEMON = "daemon";
    public static final String FALLBACK = "fallback";

    private final Path file;
    private final Path dir;
    private final Config.AuditOptions options;
    /** Whether the file's name (new, or rotated in) may not be durable yet: the directory needs an fsync. */
    private boolean nameUnsynced;

    public AuditLog(Path dir, Config.AuditOptions options) {
        this.dir = dir.toAbsolutePath();
        this.file = this.dir.resolve(FILE);
        this.options = options;
    }

    public Path path() {
        return file;
    }

    /**
     * Appends {@code entries} in one write and fsyncs the file (fdatasync; and the directory
     * when the file is new). The caller holds the state lock. On failure a partly written batch
     * is cut off again as far as the disk allows, and SYSTEM_ERROR is thrown.
     */
    public void append(List<AuditEntry> entries) {
        if (!entries.isEmpty()) {
            append(encode(entries), true);
        }
    }

    /**
     * Appends {@code lines} ({@link #encode}d) in one write; with {@code sync} also fdatasyncs
     * the file (and the directory when the file is new). Without, the lines are in the page
     * cache, where they survive the process but not a power loss, until {@link #sync}. On
     * failure a partly written batch is cut off again as far as the disk allows, and
     * SYSTEM_ERROR is thrown.
     */
    public void append(byte[] lines, boolean sync) {
        append(lines, sync, false);
    }

    /** {@link #append(byte[], boolean)}; with {@code continueLine} the file's torn last line is the start of {@code lines}' first. */
    private void append(byte[] lines, boolean sync, boolean continueLine) {
        if (lines.length == 0) {
            return;
        }
        try {
            long existing = sizeOrMinusOne(file);
            boolean newEntry = existing < 0;
            if (existing > 0 && existing + lines.length > options.maxBytes() && !continueLine) {
                rotate();
                newEntry = true;
            }
            try (FileChannel ch = FileChannel.open(
                    file,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.READ,
                    StandardOpenOption.WRITE,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS)) { // a link is refused
                long size = ch.size();
                long at = size;
                try {
                    if (size > 0 && !continueLine && !endsWithNewline(ch, size)) {
                        // A crash cut the last line short: keep it on a line of its own.
                        at += writeFully(ch, ByteBuffer.wrap(new byte[] {'\n'}), at);
                    }
                    writeFully(ch, ByteBuffer.wrap(lines), at);
                    if (sync) {
                        ch.force(false);
                    }
                } catch (IOException e) {
                    try {
                        ch.truncate(size);
                        ch.force(false);
                    } catch (IOException | RuntimeException ignored) {
                        // a torn last line is skipped by readers and ended by the next append
                    }
                    throw e;
                }
            }
            nameUnsynced |= newEntry;
            if (sync) {
                syncName();
            }
        } catch (IOException e) {
            throw DurableFiles.appendFailed(file, e);
        }
    }

    /** Makes the lines appended without sync durable (fdatasync, and the directory when the file is new). */
    public void sync() {
        try (FileChannel ch =
                FileChannel.open(file, StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            ch.force(false);
            syncName();
        } catch (IOException e) {
            throw DurableFiles.appendFailed(file, e);
        }
    }

    private void syncName() throws IOException {
        if (nameUnsynced) {
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
            nameUnsynced = false;
        }
    }

    /**
     * Makes sure audit.log ends, durably, with {@code lines}: the lines counters.json carries
     * ({@link StateFile#withAudit}), which its writer appends after the rename and may not have
     * synced (or even written) before it died. They are a tail of what was appended, so after a
     * crash audit.log holds some first part of them (down to a byte: a torn line); only the
     * rest is appended, then the file is synced. The caller holds the lock.
     */
    public void ensureEndsWith(byte[] lines) {
        if (lines.length == 0) {
            return;
        }
        int have = 0;
        try (FileChannel ch =
                FileChannel.open(file, StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            long size = ch.size();
            int n = (int) Math.min(size, lines.length + 1L); // one more: is the overlap at a line start?
            ByteBuffer tail = ByteBuffer.allocate(n);
            while (tail.hasRemaining() && ch.read(tail, size - n + tail.position()) > 0) {
                // until full, or the file shrank under us (then nothing matches)
            }
            have = carriedPrefix(tail.array(), tail.position(), size == n, lines);
            if (have == lines.length) {
                // Its writer may have died before syncing them. Their name needs no directory
                // fsync here: the rename that can replace the counters.json carrying them comes
                // later in the same directory, and names become durable in order, with that
                // rename's fsync.
                ch.force(false);
                return;
            }
        } catch (NoSuchFileException e) {
            // nothing of them is there
        } catch (IOException e) {
            throw DurableFiles.appendFailed(file, e);
        }
        append(java.util.Arrays.copyOfRange(lines, have, lines.length), true, have > 0);
    }

    /**
     * How many first bytes of {@code lines} {@code tail} (the file's last {@code n} bytes; all of
     * it when {@code whole}) ends with, starting at a line start: the longest such overlap.
     */
    static int carriedPrefix(byte[] tail, int n, boolean whole, byte[] lines) {
        for (int start = Math.max(0, n - lines.length); start < n; start++) {
            boolean lineStart = start == 0 ? whole : tail[start - 1] == '\n';
            if (lineStart && java.util.Arrays.equals(tail, start, n, lines, 0, n - start)) {
                return n - start;
            }
        }
        return 0;
    }

    /**
     * The batch's lines, one write's worth, into one buffer: one {@link JsonWriter} for the
     * batch, no generator, stream or array per line.
     */
    public byte[] encode(List<AuditEntry> entries) {
        JsonWriter w = new JsonWriter(entries.size() * 192);
        for (AuditEntry e : entries) {
            e.write(w);
            w.newline();
        }
        return w.toBytes();
    }

    private static boolean endsWithNewline(FileChannel ch, long size) throws IOException {
        ByteBuffer last = ByteBuffer.allocate(1);
        return ch.read(last, size - 1) == 1 && last.get(0) == '\n';
    }

    private static int writeFully(FileChannel ch, ByteBuffer buf, long at) throws IOException {
        int n = buf.remaining();
        long pos = at;
        while (buf.hasRemaining()) {
            pos += ch.write(buf, pos);
        }
        return n;
    }

    /** audit.log → audit.log.1, .1 → .2, ...; files beyond {@code keep} are removed. */
    private void rotate() throws IOException {
        for (Path old : AuditReader.rotatedFiles(dir)) {
            if (AuditReader.number(old) >= options.keep()) {
                Files.deleteIfExists(old);
            }
        }
        for (int i = options.keep() - 1; i >= 1; i--) {
            Path from = AuditReader.rotated(dir, i);
            if (Files.exists(from, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.move(
                        from,
                        AuditReader.rotated(dir, i + 1),
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(
                file, AuditReader.rotated(dir, 1), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static long sizeOrMinusOne(Path p) throws IOException {
        try {
            return Files.size(p);
        } catch (NoSuchFileException e) {
            return -1;
        }
    }
}
