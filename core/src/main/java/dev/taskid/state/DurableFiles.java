package dev.taskid.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * Durable whole-file replacement, the same steps {@link StateFile} takes for counters.json:
 * write a temporary file beside the target, fsync it, rename it over the target, fsync the
 * directory. A reader sees the old content or the new one, never a mix, and after a crash the
 * old file is intact unless the rename (and so the new content) is on disk.
 *
 * <p>The caller serializes writers (a lock); this class only makes each write atomic and
 * durable. An existing target keeps its permissions; a symbolic link is followed, so the file
 * it points at is replaced and the link stays.
 */
public final class DurableFiles {
    private DurableFiles() {
    }

    /**
     * Replaces {@code file} with {@code bytes}. On failure the temporary file is removed, the
     * target is unchanged and the exception is rethrown.
     */
    public static void replace(Path file, byte[] bytes) throws IOException {
        Path target = file.toAbsolutePath();
        if (Files.isSymbolicLink(target)) {
            target = target.toRealPath();
        }
        Path dir = target.getParent();
        Path tmp = dir.resolve("." + target.getFileName() + ".taskid-tmp");
        Set<PosixFilePermission> permissions = null;
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            try {
                permissions = Files.getPosixFilePermissions(target);
            } catch (UnsupportedOperationException e) {
                permissions = null;
            }
        }
        if (permissions != null) {
            // Set before the content is written, so the new file is never more open than the old.
            Files.deleteIfExists(tmp);
            Files.createFile(tmp);
            Files.setPosixFilePermissions(tmp, permissions);
        }
        write(tmp, target, bytes);
    }

    /**
     * The four steps: write {@code tmp}, fsync it, rename it over {@code target}, fsync the
     * directory. Returns only when the new content is durable. On failure {@code tmp} is
     * removed (best effort), {@code target} is unchanged and the exception is rethrown.
     */
    public static void write(Path tmp, Path target, byte[] bytes) throws IOException {
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
                d.force(true);
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the next write truncates it
            }
            throw e;
        }
    }

    /**
     * The bytes of {@code file}, or empty when it does not exist; any other failure to read is
     * SYSTEM_ERROR (the file may be fine, the disk or its permissions are not).
     */
    public static java.util.Optional<byte[]> readIfExists(Path file) {
        try {
            return java.util.Optional.of(Files.readAllBytes(file));
        } catch (java.nio.file.NoSuchFileException e) {
            return java.util.Optional.empty();
        } catch (IOException e) {
            throw new dev.taskid.protocol.TaskIdException(dev.taskid.protocol.ErrorCode.SYSTEM_ERROR,
                    "cannot read " + file + ": " + e.getMessage(), java.util.Map.of(), e);
        }
    }
}
