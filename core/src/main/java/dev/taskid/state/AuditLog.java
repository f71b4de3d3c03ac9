package dev.taskid.state;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.json.Timestamps;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
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
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * {@code .taskid/audit.log}: one JSON line per state change (a reservation that allocated, a
 * counter set or raised, numbers archived), saying who asked, when and why.
 *
 * <pre>{"time":"2026-02-19T18:00:00.000Z","op":"reserve","prefix":"SEC","ids":["SEC-20","SEC-21"],"from":19,"to":21,
 *  "purpose":"review","agent":"claude-1","key":"k1","pid":4242,"uid":1000,"mode":"daemon"}</pre>
 *
 * <p>Written only by the holder of the state lock, as the second half of one durable step
 * ({@link StateStore#commit}): counters.json first, then the batch's lines in one append and
 * one fsync, then the answers. {@code from}/{@code to} are the counter (for wrapped prefixes:
 * the position) before and after. Bounded: an append that would take the file past
 * {@code maxBytes} first renames it {@code audit.log.1} (older files shift up, at most
 * {@code keep} are kept). Readers need no lock: lines are appended whole, and an unreadable
 * line (a torn write) is skipped.
 */
public final class AuditLog {
    public static final String FILE = "audit.log";
    public static final String DAEMON = "daemon";
    public static final String FALLBACK = "fallback";
    /** Longest line {@link #readFrom} parses; audit lines are a few hundred bytes. */
    private static final int MAX_LINE_BYTES = 1 << 20;

    private final Path file;
    private final Path dir;
    private final Json json;
    private final Config.AuditOptions options;

    /**
     * Who asked for a change: {@code pid}/{@code uid} -1 when unknown (the daemon's NIO
     * transport knows no pid); {@code lockWaitMs} -1 when not applicable (daemon mode).
     */
    public record Requester(long pid, int uid, String mode, long lockWaitMs) {
        private static final class Self {
            static final long PID = ProcessHandle.current().pid();
            static final int UID = Users.currentUid();
        }

        /** This process. */
        public static Requester self(String mode, long lockWaitMs) {
            return new Requester(Self.PID, Self.UID, mode, lockWaitMs);
        }
    }

    /**
     * One line. {@code ids}: the IDs a reservation handed out; {@code numbers}: the numbers
     * archived or restored; {@code from}/{@code to}: the counter before and after (-1: not
     * applicable). Absent texts are null.
     */
    public record Entry(Instant time, String op, String prefix, List<String> ids, List<Long> numbers, long from,
                        long to, String purpose, String agent, String key, Requester by) {
        public Entry {
            ids = ids == null ? List.of() : List.copyOf(ids);
            numbers = numbers == null ? List.of() : List.copyOf(numbers);
        }

        /** The line as written to the log, without the newline. */
        public byte[] toJson(Json json) {
            return json.write(this::write);
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeStringField("time", Timestamps.format(time));
            g.writeStringField("op", op);
            if (prefix != null) {
                g.writeStringField("prefix", prefix);
            }
            if (!ids.isEmpty()) {
                Json.writeValue(g, "ids", ids);
            }
            if (!numbers.isEmpty()) {
                Json.writeValue(g, "numbers", numbers);
            }
            if (from >= 0) {
                g.writeNumberField("from", from);
            }
            if (to >= 0) {
                g.writeNumberField("to", to);
            }
            text(g, "purpose", purpose);
            text(g, "agent", agent);
            text(g, "key", key);
            g.writeNumberField("pid", by.pid());
            g.writeNumberField("uid", by.uid());
            g.writeStringField("mode", by.mode());
            if (by.lockWaitMs() >= 0) {
                g.writeNumberField("lockWaitMs", by.lockWaitMs());
            }
            g.writeEndObject();
        }

        private static void text(JsonGenerator g, String name, String value) throws IOException {
            if (value != null) {
                g.writeStringField(name, value);
            }
        }

        /** The line's fields back; throws IllegalArgumentException if it is not an audit line. */
        public static Entry of(Map<String, Object> m) {
            if (!(m.get("time") instanceof String time) || !(m.get("op") instanceof String op)) {
                throw new IllegalArgumentException("no time or op");
            }
            List<String> ids = new ArrayList<>();
            if (m.get("ids") instanceof List<?> list) {
                list.forEach(o -> ids.add(String.valueOf(o)));
            }
            List<Long> numbers = new ArrayList<>();
            if (m.get("numbers") instanceof List<?> list) {
                for (Object o : list) {
                    if (o instanceof Long n) {
                        numbers.add(n);
                    }
                }
            }
            Requester by = new Requester(longOf(m.get("pid")), (int) longOf(m.get("uid")),
                    m.get("mode") instanceof String s ? s : "?", longOf(m.get("lockWaitMs")));
            return new Entry(Instant.parse(time), op, stringOf(m.get("prefix")), ids, numbers, longOf(m.get("from")),
                    longOf(m.get("to")), stringOf(m.get("purpose")), stringOf(m.get("agent")), stringOf(m.get("key")), by);
        }

        private static long longOf(Object o) {
            return o instanceof Long l ? l : -1;
        }

        private static String stringOf(Object o) {
            return o instanceof String s ? s : null;
        }
    }

    public AuditLog(Path dir, Json json, Config.AuditOptions options) {
        this.dir = dir.toAbsolutePath();
        this.file = this.dir.resolve(FILE);
        this.json = json;
        this.options = options;
    }

    public Path path() {
        return file;
    }

    // ------------------------------------------------------------------ what changed

    /**
     * Adds to {@code out} the lines for one applied request: nothing for a failure, a replay or
     * a change that changed nothing. The allocator's response says exactly what changed, so the
     * allocator itself needs to know nothing of the log.
     */
    public static void collect(Request request, Response response, Requester by, Instant now, List<Entry> out) {
        if (response instanceof Response.Failure) {
            return;
        }
        if (response instanceof Response.Reserved r) {
            if (!r.replayed() && request instanceof Request.Reserve q) {
                out.add(new Entry(r.reservedAt(), "reserve", r.prefix(), r.ids(), null, r.previous(), r.counter(),
                        q.purpose(), q.agent(), q.key(), by));
            }
        } else if (response instanceof Response.CounterSet s) {
            if (s.previous() != s.counter()) {
                out.add(new Entry(now, "set", s.prefix(), null, null, s.previous(), s.counter(), null, null, null, by));
            }
        } else if (response instanceof Response.Initialized i) {
            for (Map.Entry<String, Long> e : i.after().entrySet()) {
                long before = i.before().getOrDefault(e.getKey(), 0L);
                if (e.getValue() > before) {
                    out.add(new Entry(now, "init", e.getKey(), null, null, before, e.getValue(), null, null, null, by));
                }
            }
        } else if (response instanceof Response.Archived a) {
            if (!a.changed().isEmpty()) {
                out.add(new Entry(now, a.restore() ? "restore" : "archive", a.prefix(), null, a.changed(), -1, -1,
                        null, null, null, by));
            }
        } else if (request.mutates()) {
            // An operation this class does not know yet: still say that it happened.
            out.add(new Entry(now, request.op(), null, null, null, -1, -1, null, null, null, by));
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * Appends {@code entries} in one write and fsyncs the file (and the directory when the
     * file is new). The caller holds the state lock. On failure a partly written batch is cut
     * off again as far as the disk allows, and SYSTEM_ERROR is thrown.
     */
    public void append(List<Entry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        byte[] bytes = encode(entries);
        try {
            long existing = sizeOrMinusOne(file);
            boolean newEntry = existing < 0;
            if (existing > 0 && existing + bytes.length > options.maxBytes()) {
                rotate();
                newEntry = true;
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS)) { // a link is refused
                long size = ch.size();
                long at = size;
                try {
                    if (size > 0 && !endsWithNewline(ch, size)) {
                        // A crash cut the last line short: keep it on a line of its own.
                        at += writeFully(ch, ByteBuffer.wrap(new byte[] {'\n'}), at);
                    }
                    writeFully(ch, ByteBuffer.wrap(bytes), at);
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
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR,
                    "could not append to " + file + " (" + DurableFiles.explain(file, e) + "); nothing was acknowledged. "
                            + "Fix the disk (space, read-only mount, permissions) and retry.",
                    Map.of("file", file.toString()), e);
        }
    }

    byte[] encode(List<Entry> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(entries.size() * 192);
        for (Entry e : entries) {
            out.writeBytes(json.write(e::write));
            out.write('\n');
        }
        return out.toByteArray();
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
        for (Path old : rotatedFiles(dir)) {
            if (number(old) >= options.keep()) {
                Files.deleteIfExists(old);
            }
        }
        for (int i = options.keep() - 1; i >= 1; i--) {
            Path from = rotated(dir, i);
            if (Files.exists(from, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.move(from, rotated(dir, i + 1), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(file, rotated(dir, 1), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static long sizeOrMinusOne(Path p) throws IOException {
        try {
            return Files.size(p);
        } catch (NoSuchFileException e) {
            return -1;
        }
    }

    // ------------------------------------------------------------------ reading

    static Path rotated(Path dir, int n) {
        return dir.resolve(FILE + "." + n);
    }

    private static int number(Path rotated) {
        String name = rotated.getFileName().toString();
        try {
            return Integer.parseInt(name.substring(FILE.length() + 1));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            return -1;
        }
    }

    private static List<Path> rotatedFiles(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, FILE + ".*")) {
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
            if (Files.exists(dir.resolve(FILE))) {
                out.add(dir.resolve(FILE));
            }
            return Collections.unmodifiableList(out);
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot list " + dir + ": " + e.getMessage(), Map.of(), e);
        }
    }

    /**
     * Reads every line of the log files of {@code dir}, oldest first, and hands each readable
     * one that passes {@code lineFilter} (a cheap test on the raw text) to {@code sink}.
     * Returns the number of unreadable lines (torn by a crash, or not audit lines).
     */
    public static int read(Path dir, Json json, Predicate<String> lineFilter, Consumer<Entry> sink) {
        int unreadable = 0;
        for (Path f : files(dir)) {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(f),
                    StandardCharsets.UTF_8), 1 << 16)) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.isEmpty() || !lineFilter.test(line)) {
                        continue;
                    }
                    byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
                    try {
                        sink.accept(Entry.of(json.readObject(bytes, 0, bytes.length)));
                    } catch (JsonException | IllegalArgumentException | DateTimeParseException e) {
                        unreadable++;
                    }
                }
            } catch (NoSuchFileException e) {
                // rotated away while we read: its lines are in the next file
            } catch (IOException e) {
                throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot read " + f + ": " + e.getMessage(), Map.of(), e);
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
    static long readFrom(Path file, long offset, Json json, Consumer<Entry> sink) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
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
                            sink.accept(Entry.of(json.readObject(bytes, 0, bytes.length)));
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
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot read " + file + ": " + e.getMessage(), Map.of(), e);
        }
    }

    /** Highest counter ("to") per prefix in the whole log, and the last one. */
    public record Counters(Map<String, Long> highest, Map<String, Long> last, int lines, int unreadable) {
    }

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
