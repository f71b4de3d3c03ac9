package dev.taskid.state;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Durable whole-file replacement, the same steps {@link StateFile} takes for counters.json:
 * write a temporary file beside the target, fsync it, rename it over the target, fsync the
 * directory. A reader sees the old content or the new one, never a mix, and after a crash the
 * old file is intact unless the rename (and so the new content) is on disk.
 *
 * <p>The caller serializes writers (a lock); this class only makes each write atomic and
 * durable. Each process writes its own temporary file ({@link #tmpFor}), created new
 * (O_CREAT|O_EXCL, which never follows a symbolic link), so a process that stalls or dies
 * mid-write never leaves a file another process then renames, and a link planted at the
 * temporary name is refused rather than written through. {@link #replace} (files of the
 * project, not of the state) keeps an existing target's permissions and follows a link at
 * the target, so the file it points at is replaced and the link stays.
 */
public final class DurableFiles {
    private static final long PID = ProcessHandle.current().pid();
    private static final String TMP = ".tmp";

    private DurableFiles() {}

    /**
     * The failure of the last step: the rename happened, so the file holds the new content,
     * but the directory could not be synced, so after a power loss it may hold the old one.
     */
    public static final class NotDurable extends IOException {
        NotDurable(Path target, IOException cause) {
            super("renamed into " + target + ", but the directory could not be synced: " + cause.getMessage(), cause);
        }
    }

    /** This process's temporary file for {@code target}: {@code <name>.<pid>.tmp}. */
    public static Path tmpFor(Path target) {
        return tmpFor(target, 0);
    }

    /**
     * This process's temporary file number {@code slot} for {@code target}, for a writer with
     * several prepared at once: {@code <name>.<pid>.tmp} for slot 0, else
     * {@code <name>.<slot>.<pid>.tmp} (the pid stays last, for {@link #removeDeadLeftovers}).
     */
    public static Path tmpFor(Path target, int slot) {
        return target.resolveSibling(target.getFileName() + (slot == 0 ? "." : "." + slot + ".") + PID + TMP);
    }

    /**
     * Removes temporary files of {@code dir} left by processes that no longer run (a crash
     * mid-write); the caller holds the state lock. Those of live processes are left alone,
     * and a failure to remove one is ignored: nothing ever renames a leftover.
     */
    public static void removeDeadLeftovers(Path dir) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*" + TMP)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                String[] parts = name.substring(0, name.length() - TMP.length()).split("\\.");
                long pid = parsePid(parts[parts.length - 1]);
                if (pid > 0 && pid != PID && ProcessHandle.of(pid).isEmpty()) {
                    Files.deleteIfExists(p); // unlinks a symbolic link itself, never its target
                }
            }
        } catch (IOException | RuntimeException e) {
            // only tidying
        }
    }

    private static long parsePid(String s) {
        try {
            return s.chars().allMatch(Character::isDigit) && !s.isEmpty() ? Long.parseLong(s) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
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
        Path tmp = tmpFor(target.resolveSibling("." + target.getFileName()));
        Set<PosixFilePermission> permissions = null;
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            try {
                permissions = Files.getPosixFilePermissions(target);
            } catch (UnsupportedOperationException e) {
                permissions = null;
            }
        }
        // Set at creation, so the new file is never more open than the old.
        write(
                tmp,
                target,
                bytes,
                permissions == null
                        ? new FileAttribute<?>[0]
                        : new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)});
        if (permissions != null) {
            Files.setPosixFilePermissions(target, permissions); // the umask may have narrowed them
        }
    }

    /**
     * The four steps: write {@code tmp}, fsync it, rename it over {@code target}, fsync the
     * directory. Returns only when the new content is durable. On failure before the rename
     * {@code tmp} is removed (best effort), {@code target} is unchanged and the exception is
     * rethrown; a failure of the last step is {@link NotDurable}.
     */
    public static void write(Path tmp, Path target, byte[] bytes) throws IOException {
        write(tmp, target, bytes, new FileAttribute<?>[0]);
    }

    private static void write(Path tmp, Path target, byte[] bytes, FileAttribute<?>[] attributes) throws IOException {
        prepare(tmp, bytes, attributes);
        install(tmp, target);
    }

    /**
     * The first half of {@link #write}: writes {@code tmp} and fsyncs it. On failure {@code tmp}
     * is removed (best effort) and the exception is rethrown.
     */
    public static void prepare(Path tmp, byte[] bytes) throws IOException {
        prepare(tmp, bytes, new FileAttribute<?>[0]);
    }

    private static void prepare(Path tmp, byte[] bytes, FileAttribute<?>[] attributes) throws IOException {
        try {
            Set<OpenOption> options =
                    Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            FileChannel created;
            try {
                created = FileChannel.open(tmp, options, attributes);
            } catch (FileAlreadyExistsException e) {
                // Our own leftover (a reused pid): removed (a link itself, never what it points
                // at), then made anew. Not removed up front: on the daemon's persist path that was
                // an exception (a missing file) per batch.
                Files.delete(tmp);
                created = FileChannel.open(tmp, options, attributes);
            }
            try (FileChannel ch = created) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
        } catch (IOException | RuntimeException e) {
            discard(tmp);
            throw e;
        }
    }

    /**
     * The second half of {@link #write}: renames the prepared {@code tmp} over {@code target} and
     * fsyncs the directory. A failure of the rename removes {@code tmp} (target unchanged); a
     * failure of the directory fsync is {@link NotDurable}.
     */
    public static void install(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            discard(tmp);
            throw e;
        }
        syncDirectory(target);
    }

    /** fsyncs {@code target}'s directory, making the renames into it durable; a failure is {@link NotDurable}. */
    static void syncDirectory(Path target) throws NotDurable {
        try (FileChannel d = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            throw new NotDurable(target, e);
        }
    }

    /** Removes a prepared {@code tmp} that will not be installed (best effort). */
    public static void discard(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // left for removeDeadLeftovers once this process is gone
        }
    }

    /**
     * The bytes of {@code file}, or empty when it does not exist; any other failure to read is
     * SYSTEM_ERROR (the file may be fine, the disk or its permissions are not). State files
     * pass {@link LinkOption#NOFOLLOW_LINKS}: a symbolic link is then refused, not followed.
     */
    public static Optional<byte[]> readIfExists(Path file, LinkOption... options) {
        Set<OpenOption> open = new java.util.HashSet<>(java.util.List.of(options));
        open.add(StandardOpenOption.READ);
        try (FileChannel ch = FileChannel.open(file, open)) {
            long size = ch.size();
            if (size > MAX_READ_BYTES) {
                throw new TaskIdException(
                        ErrorCode.SYSTEM_ERROR,
                        "cannot read " + file + ": " + size + " bytes, more than taskid reads (" + MAX_READ_BYTES + ")",
                        Map.of("file", file.toString()),
                        null);
            }
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // fill
            }
            return Optional.of(java.util.Arrays.copyOf(buf.array(), buf.position()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot read " + file + ": " + explain(file, e), Map.of(), e);
        }
    }

    /** Bounds what one read allocates: counters with 10,000 keys and 10,000 active numbers per prefix fit easily. */
    static final long MAX_READ_BYTES = 256L << 20;

    /**
     * Why {@code e} happened, in words: a symbolic link where taskid never follows one
     * (ELOOP with O_NOFOLLOW) says so, otherwise the system's reason.
     */
    public static String explain(Path path, IOException e) {
        if (Files.isSymbolicLink(path)) {
            return path + " is a symbolic link; taskid never follows links in its state directory"
                    + " (remove it, or replace it with the file itself)";
        }
        String m = e.getMessage();
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            m = fse.getReason();
        }
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /** A failed append to one of the state's logs (audit.log, keys.log), before anything was acknowledged. */
    static TaskIdException appendFailed(Path file, IOException e) {
        return new TaskIdException(
                ErrorCode.SYSTEM_ERROR,
                "could not append to " + file + " (" + explain(file, e) + "); nothing was acknowledged. "
                        + "Fix the disk (space, read-only mount, permissions) and retry.",
                Map.of("file", file.toString()),
                e);
    }
}
