package dev.taskid.state;

import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Reading the audit log ({@link AuditLog}) without a lock: its files oldest first, every line
 * or the lines after an offset, and the counters they record. Lines are appended whole; an
 * unreadable line (torn by a crash, or not an audit line) is skipped and counted.
 */
public final class AuditReader {
    /** Longest line {@link #readFrom} parses; audit lines are a few hundred bytes. */
    private static final int MAX_LINE_BYTES = 1 << 20;

    private AuditReader() {}

    static Path rotated(Path dir, int n) {
        return dir.resolve(AuditLog.FILE + "." + n);
    }

    static int number(Path rotated) {
        String name = rotated.getFileName().toString();
        try {
            return Integer.parseInt(name.substring(AuditLog.FILE.length() + 1));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            return -1;
        }
    }

    static List<Path> rotatedFiles(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, AuditLog.FILE + ".*")) {
            for (Path p : s) {
                if (number(p) > 0) {
                    out.add(p);
                }
            }
        } catch (NoSuchFileException e) {
            return out;
        }
        return out;
    }

    /** The log files of the state directory {@code dir}, oldest first. */
    public static List<Path> files(Path dir) {
        try {
            List<Path> out = rotatedFiles(dir);
            out.sort((a, b) -> Integer.compare(number(b), number(a)));
            if (Files.exists(dir.resolve(AuditLog.FILE))) {
                out.add(dir.resolve(AuditLog.FILE));
            }
            return Collections.unmodifiableList(out);
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot list " + dir + ": " + e.getMessage(), Map.of(), e);
        }
    }

    /**
     * Reads every line of the log files of {@code dir}, oldest first, and hands each readable
     * one that passes {@code lineFilter} (a cheap test on the raw text) to {@code sink}.
     * Returns the number of unreadable lines (torn by a crash, or not audit lines).
     */
    public static int read(Path dir, Json json, Predicate<String> lineFilter, Consumer<AuditEntry> sink) {
        int unreadable = 0;
        for (Path f : files(dir)) {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(Files.newInputStream(f), StandardCharsets.UTF_8), 1 << 16)) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.isEmpty() || !lineFilter.test(line)) {
                        continue;
                    }
                    AuditEntry entry = AuditEntry.parse(line, json);
                    if (entry == null) {
                        unreadable++;
                    } else {
                        sink.accept(entry);
                    }
                }
            } catch (NoSuchFileException e) {
                // rotated away while we read: its lines are in the next file
            } catch (IOException e) {
                throw new TaskIdException(
                        ErrorCode.SYSTEM_ERROR, "cannot read " + f + ": " + e.getMessage(), Map.of(), e);
            }
        }
        return unreadable;
    }

    /**
     * Reads the whole lines of {@code file} from byte {@code offset} on, handing each readable
     * one to {@code sink}, and returns the offset after the last whole line (a torn last line,
     * cut short by a crash, is left for the next read). Returns {@code offset} when the file is
     * missing.
     */
    static long readFrom(Path file, long offset, Json json, Consumer<AuditEntry> sink) {
        try (FileChannel ch =
                FileChannel.open(file, StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            ByteArrayOutputStream line = new ByteArrayOutputStream(256);
            long pos = offset;
            long end = offset;
            int n;
            while ((n = ch.read(buf, pos)) > 0) {
                for (int i = 0; i < n; i++) {
                    byte b = buf.get(i);
                    if (b != '\n') {
                        if (line.size() <= MAX_LINE_BYTES) { // a longer line is no audit line: skipped, memory bounded
                            line.write(b);
                        }
                        continue;
                    }
                    end = pos + i + 1;
                    if (line.size() > 0) {
                        byte[] bytes = line.toByteArray();
                        try {
                            sink.accept(AuditEntry.of(json.readObject(bytes, 0, bytes.length)));
                        } catch (JsonException | IllegalArgumentException | DateTimeParseException e) {
                            // a torn or foreign line: skipped, as by every reader of the log
                        }
                        line.reset();
                    }
                }
                pos += n;
                buf.clear();
            }
            return end;
        } catch (NoSuchFileException e) {
            return offset;
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR, "cannot read " + file + ": " + e.getMessage(), Map.of(), e);
        }
    }

    /** Highest counter ("to") per prefix in the whole log, and the last one. */
    public record Counters(Map<String, Long> highest, Map<String, Long> last, int lines, int unreadable) {}

    /** The counters the log knows of: what {@code recover} and {@code doctor} compare with. */
    public static Counters counters(Path dir, Json json) {
        Map<String, Long> highest = new TreeMap<>();
        Map<String, Long> last = new TreeMap<>();
        int[] lines = {0};
        int unreadable = read(dir, json, l -> true, e -> {
            lines[0]++;
            if (e.prefix() != null && e.to() >= 0) {
                highest.merge(e.prefix(), e.to(), Math::max);
                last.put(e.prefix(), e.to());
            }
        });
        return new Counters(highest, last, lines[0], unreadable);
    }
}
