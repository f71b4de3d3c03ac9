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
 * ({@link StateStore#persist}): counters.json first, then the batch's lines in one append and
 * one fdatasync, then the answers. {@code from}/{@code to} are the counter (for wrapped prefixes:
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
        if (entries.isEmpty()) {
            return;
        }
        ByteBuffer lines = encode(entries);
        try {
            long existing = sizeOrMinusOne(file);
            boolean newEntry = existing < 0;
            if (existing > 0 && existing + lines.remaining() > options.maxBytes()) {
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
                    if (size > 0 && !endsWithNewline(ch, size)) {
                        // A crash cut the last line short: keep it on a line of its own.
                        at += writeFully(ch, ByteBuffer.wrap(new byte[] {'\n'}), at);
                    }
                    writeFully(ch, lines, at);
                    ch.force(false);
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
            if (newEntry) {
                try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                    d.force(true);
                }
            }
        } catch (IOException e) {
            throw DurableFiles.appendFailed(file, e);
        }
    }

    /**
     * The batch's lines, one write's worth, into one buffer: one {@link JsonWriter} for the
     * batch, no generator or array per line.
     */
    static ByteBuffer encode(List<AuditEntry> entries) {
        JsonWriter w = new JsonWriter(entries.size() * 192);
        for (AuditEntry e : entries) {
            e.write(w);
            w.newline();
        }
        return ByteBuffer.wrap(w.array(), 0, w.length());
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
