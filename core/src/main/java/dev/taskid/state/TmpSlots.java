package dev.taskid.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The daemon's temporary files for counters.json, one per batch prepared at once, kept between
 * batches: write tmp + fsync + rename + directory fsync as before, but the tmp file is an inode
 * the daemon wrote before (counters.json two installs ago), overwritten in place at the same
 * size. An fdatasync then writes the data blocks and nothing else: no new inode, no block
 * allocation, no size change (on this project's ext4 test machine it took the durable step from
 * ~0.9 to ~0.63 ms and a quarter of its kernel CPU). The install keeps the replaced
 * counters.json's inode: a second name for it first (a hard link), then the rename over
 * counters.json, then the second name renamed to the slot's; one directory fsync covers all three.
 * <p>A file written here is the content followed by spaces up to the file's size (JSON allows
 * trailing whitespace), so that size changes only when the content outgrows it: in steps of
 * {@link #STEP}, and down when it is over twice what the content needs.
 * <p>An inode is reused only while the slot's name is its one link: never counters.json itself,
 * nor a file someone else linked to (a hard-link backup of counters.json). A reader that opened
 * counters.json just before it was replaced may see its next content being written
 * ({@link StateFile#inspect} reads again then). Where hard links are refused the replaced inode
 * is let go and the next batch makes a new file.
 */
final class TmpSlots {
    /** Sizes are multiples of this; a page. */
    static final int STEP = 4096;

    private static final byte[] SPACES = new byte[STEP];

    static {
        Arrays.fill(SPACES, (byte) ' ');
    }

    /** Inodes whose content length is remembered, at most (more are forgotten: then blanked whole). */
    private static final int REMEMBERED = 32;

    private final Path target;
    private final Path spare;
    /** For each inode this writer wrote (by dev:ino), how long its content was: beyond that it is spaces. */
    private final Map<String, Integer> written = new ConcurrentHashMap<>();
    /** The highest slot used so far. */
    private final AtomicInteger highest = new AtomicInteger(-1);

    TmpSlots(Path target) {
        this.target = target;
        this.spare = DurableFiles.tmpFor(target.resolveSibling(target.getFileName() + ".spare"));
    }

    private Path name(int slot) {
        highest.accumulateAndGet(slot, Math::max);
        return DurableFiles.tmpFor(target, slot);
    }

    /** Writes {@code bytes} into slot {@code slot}'s file (reused when it may be) and fdatasyncs it. */
    void prepare(int slot, byte[] bytes) throws IOException {
        Path tmp = name(slot);
        Map<String, Object> attributes = attributes(tmp);
        if (attributes == null
                || !Boolean.TRUE.equals(attributes.get("isRegularFile"))
                || !Integer.valueOf(1).equals(attributes.get("nlink"))) {
            create(tmp, bytes);
            return;
        }
        String key = key(attributes);
        long size = (Long) attributes.get("size");
        long fits = sizeFor(bytes.length);
        long newSize = bytes.length > size || size > 2 * fits ? fits : size;
        // Beyond the content only spaces: blank what the last content there left, and any growth.
        long blankTo = newSize > size
                ? newSize
                : Math.min(newSize, Math.max(bytes.length, written.getOrDefault(key, (int) size)));
        written.remove(key); // unknown until this write has completed
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            writeAt(ch, ByteBuffer.wrap(bytes), 0);
            for (long at = bytes.length; at < blankTo; ) {
                at += writeAt(ch, ByteBuffer.wrap(SPACES, 0, (int) Math.min(STEP, blankTo - at)), at);
            }
            if (newSize < size) {
                ch.truncate(newSize);
            }
            ch.force(false);
        } catch (IOException | RuntimeException e) {
            DurableFiles.discard(tmp);
            throw e;
        }
        remember(key, bytes.length);
    }

    private void remember(String key, int length) {
        if (written.size() >= REMEMBERED) {
            written.clear();
        }
        written.put(key, length);
    }

    private void create(Path tmp, byte[] bytes) throws IOException {
        byte[] padded = Arrays.copyOf(bytes, (int) sizeFor(bytes.length));
        Arrays.fill(padded, bytes.length, padded.length, (byte) ' ');
        DurableFiles.prepare(tmp, padded);
        Map<String, Object> attributes = attributes(tmp);
        if (attributes != null) {
            remember(key(attributes), bytes.length);
        }
    }

    /**
     * Renames slot {@code slot}'s prepared file over counters.json, keeping the replaced inode as
     * the slot's next file, and fsyncs the directory. A failed rename removes the prepared file
     * (counters.json unchanged); a failed directory fsync is {@link DurableFiles.NotDurable}.
     */
    void install(int slot) throws IOException {
        Path tmp = name(slot);
        boolean kept = keepReplaced();
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            DurableFiles.discard(tmp);
            if (kept) {
                DurableFiles.discard(spare);
            }
            throw e;
        }
        if (kept) {
            try {
                Files.move(spare, tmp, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                DurableFiles.discard(spare); // the next batch in this slot makes a new file
            }
        }
        DurableFiles.syncDirectory(target);
    }

    /** A second name (the spare) for counters.json's inode, so the rename over it does not free it; false when refused. */
    private boolean keepReplaced() {
        try {
            try {
                Files.createLink(spare, target);
            } catch (FileAlreadyExistsException e) {
                Files.delete(spare); // our own, left by a failed install
                Files.createLink(spare, target);
            }
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Removes every slot's file (at close; best effort). */
    void discardAll() {
        if (highest.get() < 0) {
            return;
        }
        for (int slot = highest.get(); slot >= 0; slot--) {
            DurableFiles.discard(DurableFiles.tmpFor(target, slot));
        }
        DurableFiles.discard(spare);
    }

    private static long sizeFor(int length) {
        return ((long) length + length / 4 + STEP - 1) / STEP * STEP;
    }

    private static int writeAt(FileChannel ch, ByteBuffer buf, long at) throws IOException {
        int total = 0;
        while (buf.hasRemaining()) {
            total += ch.write(buf, at + total);
        }
        return total;
    }

    private static Map<String, Object> attributes(Path file) throws IOException {
        try {
            return Files.readAttributes(file, "unix:dev,ino,nlink,size,isRegularFile", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static String key(Map<String, Object> attributes) {
        return attributes.get("dev") + ":" + attributes.get("ino");
    }
}
