package dev.taskid.state;

import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.json.JsonWriter;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One line. {@code ids}: the IDs a reservation handed out; {@code numbers}: the numbers
 * archived or restored; {@code from}/{@code to}: the counter before and after (-1: not
 * applicable). Absent texts are null.
 */
public record AuditEntry(
        Instant time,
        String op,
        String prefix,
        List<String> ids,
        List<Long> numbers,
        long from,
        long to,
        String purpose,
        String agent,
        String key,
        Requester by) {
    public AuditEntry {
        ids = ids == null ? List.of() : List.copyOf(ids);
        numbers = numbers == null ? List.of() : List.copyOf(numbers);
    }

    /**
     * The line as written to the log, without the newline. ({@code json} is not needed any more:
     * lines are written by {@link JsonWriter}, byte for byte what Jackson wrote before.)
     */
    public byte[] toJson(Json json) {
        JsonWriter w = new JsonWriter(256);
        write(w);
        return w.toBytes();
    }

    /** The line, without the newline, appended to {@code w}. */
    void write(JsonWriter w) {
        w.startObject();
        w.name("time").timestamp(time);
        w.field("op", op);
        if (prefix != null) {
            w.field("prefix", prefix);
        }
        if (!ids.isEmpty()) {
            w.strings("ids", ids);
        }
        if (!numbers.isEmpty()) {
            w.numbers("numbers", numbers);
        }
        if (from >= 0) {
            w.field("from", from);
        }
        if (to >= 0) {
            w.field("to", to);
        }
        w.optional("purpose", purpose).optional("agent", agent).optional("key", key);
        w.field("pid", by.pid());
        w.field("uid", by.uid());
        w.field("mode", by.mode());
        if (by.lockWaitMs() >= 0) {
            w.field("lockWaitMs", by.lockWaitMs());
        }
        w.endObject();
    }

    /**
     * The entry of one raw audit line, or null if the line is not one (torn by a crash, or
     * written by something else): readers count those instead of failing.
     */
    public static AuditEntry parse(String line, Json json) {
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        return parse(bytes, 0, bytes.length, json);
    }

    /** {@link #parse(String, Json)} of the line in {@code buf[offset, offset + length)} (UTF-8, no newline). */
    public static AuditEntry parse(byte[] buf, int offset, int length, Json json) {
        try {
            return of(json.readObject(buf, offset, length));
        } catch (JsonException | IllegalArgumentException | DateTimeParseException e) {
            return null;
        }
    }

    /** The line's fields back; throws IllegalArgumentException if it is not an audit line. */
    public static AuditEntry of(Map<String, Object> m) {
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
        Requester by = new Requester(
                longOf(m.get("pid")),
                (int) longOf(m.get("uid")),
                m.get("mode") instanceof String s ? s : "?",
                longOf(m.get("lockWaitMs")));
        return new AuditEntry(
                Instant.parse(time),
                op,
                stringOf(m.get("prefix")),
                ids,
                numbers,
                longOf(m.get("from")),
                longOf(m.get("to")),
                stringOf(m.get("purpose")),
                stringOf(m.get("agent")),
                stringOf(m.get("key")),
                by);
    }

    private static long longOf(Object o) {
        return o instanceof Long l ? l : -1;
    }

    private static String stringOf(Object o) {
        return o instanceof String s ? s : null;
    }

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
     * Adds to {@code out} the lines for one applied request: nothing for a failure, a replay or
     * a change that changed nothing. The allocator's response says exactly what changed, so the
     * allocator itself needs to know nothing of the log.
     */
    public static void collect(Request request, Response response, Requester by, Instant now, List<AuditEntry> out) {
        if (response instanceof Response.Failure) {
            return;
        }
        if (response instanceof Response.Reserved r) {
            if (!r.replayed() && request instanceof Request.Reserve q) {
                out.add(new AuditEntry(
                        r.reservedAt(),
                        "reserve",
                        r.prefix(),
                        r.ids(),
                        null,
                        r.previous(),
                        r.counter(),
                        q.purpose(),
                        q.agent(),
                        q.key(),
                        by));
            }
        } else if (response instanceof Response.CounterSet s) {
            if (s.previous() != s.counter()) {
                out.add(new AuditEntry(
                        now, "set", s.prefix(), null, null, s.previous(), s.counter(), null, null, null, by));
            }
        } else if (response instanceof Response.Initialized i) {
            for (Map.Entry<String, Long> e : i.after().entrySet()) {
                long before = i.before().getOrDefault(e.getKey(), 0L);
                if (e.getValue() > before) {
                    out.add(new AuditEntry(
                            now, "init", e.getKey(), null, null, before, e.getValue(), null, null, null, by));
                }
            }
        } else if (response instanceof Response.Archived a) {
            if (!a.changed().isEmpty()) {
                out.add(new AuditEntry(
                        now,
                        a.restore() ? "restore" : "archive",
                        a.prefix(),
                        null,
                        a.changed(),
                        -1,
                        -1,
                        null,
                        null,
                        null,
                        by));
            }
        } else if (request.mutates()) {
            // An operation this class does not know yet: still say that it happened.
            out.add(new AuditEntry(now, request.op(), null, null, null, -1, -1, null, null, null, by));
        }
    }
}
