package dev.taskid.cli;

import dev.taskid.allocator.IdScanner;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What {@code taskid init} sends instead of file text: the highest number per prefix found in
 * the files, scanned here, in the client. The daemon reads no file a client names (a device or
 * a FIFO would exhaust or block its state thread), and floors fit any line however long the
 * files are. Reads regular files only, at most {@link #MAX_TOTAL_BYTES} together.
 */
public final class InitFloors {
    /** All files of one init together: a TASKS.md of 64 MiB is far beyond any real one. */
    public static final long MAX_TOTAL_BYTES = 64L << 20;

    /** The floors and how many IDs were seen. */
    public record Scan(Map<String, Long> floors, int found) {}

    private InitFloors() {}

    /** Scans {@code files} for IDs of {@code prefixes}; BAD_REQUEST or SYSTEM_ERROR naming the file otherwise. */
    public static Scan scan(List<Path> files, Set<String> prefixes) {
        IdScanner scanner = new IdScanner(prefixes);
        Map<String, Long> floors = new TreeMap<>();
        int found = 0;
        long left = MAX_TOTAL_BYTES;
        for (Path file : files) {
            byte[] bytes = read(file, left);
            left -= bytes.length;
            IdScanner.Found f = scanner.scan(new String(bytes, StandardCharsets.UTF_8));
            found += f.count();
            f.highest().forEach((p, n) -> floors.merge(p, n, Math::max));
        }
        return new Scan(floors, found);
    }

    private static byte[] read(Path file, long left) {
        try {
            // Follows a symlink on purpose (TASKS.md may be one); what it leads to must be a plain file.
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                throw new TaskIdException(
                        ErrorCode.BAD_REQUEST,
                        file + " is "
                                + (a.isDirectory()
                                        ? "a directory"
                                        : "not a regular file" + " (a device, FIFO or socket)")
                                + ": taskid init reads regular files only",
                        Map.of("file", file.toString()),
                        null);
            }
            try (InputStream in = Files.newInputStream(file)) {
                byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, left + 1));
                if (bytes.length > left) {
                    throw new TaskIdException(
                            ErrorCode.BAD_REQUEST,
                            "the files to scan are larger than " + (MAX_TOTAL_BYTES >> 20) + " MiB together (at " + file
                                    + "): pass fewer or smaller files",
                            Map.of("file", file.toString()),
                            null);
                }
                return bytes;
            }
        } catch (NoSuchFileException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "no such file: " + file, Map.of("file", file.toString()), e);
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "cannot read " + file + ": " + e.getMessage(),
                    Map.of("file", file.toString()),
                    e);
        }
    }
}
