package dev.taskid.state;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** .taskid/audit.log: lines written and read back, bounded rotation, torn lines. */
class AuditLogTest {
    private static final Instant T0 = Instant.parse("2026-11-25T10:00:00.250Z");
    private static final AuditEntry.Requester BY = new AuditEntry.Requester(4242, 1000, AuditLog.FALLBACK, 3);
    private final Json json = new Json();

    @TempDir
    Path dir;

    private AuditLog log(long maxBytes, int keep) {
        return new AuditLog(dir, new Config.AuditOptions(maxBytes, keep));
    }

    private static AuditEntry reserve(int i) {
        return new AuditEntry(
                T0.plusSeconds(i),
                "reserve",
                "SEC",
                List.of("SEC-" + i),
                null,
                i - 1,
                i,
                "purpose " + i,
                "agent",
                null,
                BY);
    }

    private List<AuditEntry> readAll() {
        List<AuditEntry> out = new ArrayList<>();
        assertEquals(0, AuditReader.read(dir, json, l -> true, out::add), "no unreadable line");
        return out;
    }

    @Test
    void appendedEntriesReadBackWithEveryField() throws Exception {
        AuditEntry full = new AuditEntry(
                T0, "reserve", "SEC", List.of("SEC-20", "SEC-21"), null, 19, 21, "review — 検証", "claude-1", "k1", BY);
        AuditEntry archive = new AuditEntry(
                T0,
                "archive",
                "PROJECT",
                null,
                List.of(1L, 42L),
                -1,
                -1,
                null,
                null,
                null,
                new AuditEntry.Requester(-1, -1, AuditLog.DAEMON, -1));
        log(1 << 20, 5).append(List.of(full, archive));
        log(1 << 20, 5).append(List.of()); // nothing to append: no change
        assertEquals(List.of(full, archive), readAll());
        List<String> lines = Files.readAllLines(dir.resolve("audit.log"), UTF_8);
        assertEquals(2, lines.size());
        assertEquals(
                "{\"time\":\"2026-11-25T10:00:00.250Z\",\"op\":\"reserve\",\"prefix\":\"SEC\",\"ids\":[\"SEC-20\",\"SEC-21\"],"
                        + "\"from\":19,\"to\":21,\"purpose\":\"review — 検証\",\"agent\":\"claude-1\",\"key\":\"k1\",\"pid\":4242,"
                        + "\"uid\":1000,\"mode\":\"fallback\",\"lockWaitMs\":3}",
                lines.get(0),
                "the documented line");
        assertFalse(lines.get(1).contains("from") || lines.get(1).contains("lockWaitMs"), "-1: not written");
    }

    @Test
    void rotationKeepsAtMostKeepFilesEachWithinTheBound() throws Exception {
        int lineBytes = reserve(100).toJson(json).length + 1;
        long maxBytes = 1024;
        int perFile = (int) (maxBytes / lineBytes);
        AuditLog log = log(maxBytes, 2);
        int total = perFile * 6 + 1;
        for (int i = 100; i < 100 + total; i++) {
            log.append(List.of(reserve(i)));
        }
        assertEquals(
                List.of(dir.resolve("audit.log.2"), dir.resolve("audit.log.1"), dir.resolve("audit.log")),
                AuditReader.files(dir),
                "oldest first; nothing beyond keep");
        assertFalse(Files.exists(dir.resolve("audit.log.3")));
        for (Path f : AuditReader.files(dir)) {
            assertTrue(Files.size(f) <= maxBytes, f + " is " + Files.size(f) + " bytes");
        }
        List<AuditEntry> kept = readAll();
        assertEquals(2 * perFile + 1, kept.size(), "two full rotated files and the current one");
        assertEquals(100 + total - 1, kept.get(kept.size() - 1).to(), "the newest line is kept");
        for (int k = 1; k < kept.size(); k++) {
            assertEquals(
                    kept.get(k - 1).to() + 1, kept.get(k).to(), "consecutive, oldest first, no line lost in between");
        }
    }

    @Test
    void aTornLastLineIsSkippedAndTheNextAppendStartsOnANewLine() throws Exception {
        AuditLog log = log(1 << 20, 5);
        log.append(List.of(reserve(1)));
        byte[] whole = reserve(2).toJson(json);
        Files.write(
                dir.resolve("audit.log"), java.util.Arrays.copyOf(whole, whole.length / 2), StandardOpenOption.APPEND);
        List<AuditEntry> read = new ArrayList<>();
        assertEquals(1, AuditReader.read(dir, json, l -> true, read::add), "one unreadable line");
        assertEquals(List.of(reserve(1)), read);

        log.append(List.of(reserve(3)));
        read.clear();
        assertEquals(1, AuditReader.read(dir, json, l -> true, read::add), "still only the torn line");
        assertEquals(List.of(reserve(1), reserve(3)), read);
        AuditReader.Counters c = AuditReader.counters(dir, json);
        assertEquals(Map.of("SEC", 3L), c.highest());
        assertEquals(2, c.lines());
        assertEquals(1, c.unreadable());
    }

    @Test
    void countersKnowTheHighestAndTheLastValuePerPrefix() {
        AuditLog log = log(1 << 20, 5);
        log.append(List.of(
                reserve(30),
                new AuditEntry(T0, "set", "SEC", null, null, 30, 10, null, null, null, BY),
                new AuditEntry(T0, "set", "UX", null, null, 0, 4, null, null, null, BY)));
        AuditReader.Counters c = AuditReader.counters(dir, json);
        assertEquals(Map.of("SEC", 30L, "UX", 4L), c.highest());
        assertEquals(Map.of("SEC", 10L, "UX", 4L), c.last());
    }

    @Test
    void lineFilterAndMissingLog() {
        assertEquals(List.of(), AuditReader.files(dir));
        assertEquals(0, AuditReader.read(dir.resolve("missing"), json, l -> true, e -> {}));
        log(1 << 20, 5).append(List.of(reserve(1), reserve(2)));
        List<AuditEntry> only = new ArrayList<>();
        AuditReader.read(dir, json, l -> l.contains("SEC-2"), only::add);
        assertEquals(List.of(reserve(2)), only);
    }

    @Test
    void aFailedAppendIsASystemError() throws Exception {
        Files.createDirectory(dir.resolve("audit.log"));
        TaskIdException e =
                assertThrows(TaskIdException.class, () -> log(1 << 20, 5).append(List.of(reserve(1))));
        assertEquals(ErrorCode.SYSTEM_ERROR, e.code());
        assertTrue(e.getMessage().contains("nothing was acknowledged"), e.getMessage());
    }

    @Test
    void collectWritesOnlyWhatChanged() {
        List<AuditEntry> out = new ArrayList<>();
        Request.Reserve req = new Request.Reserve(null, "SEC", 2, "why", "who", "k");
        Response.Reserved fresh = new Response.Reserved(
                null, "SEC", List.of("SEC-20", "SEC-21"), List.of(20L, 21L), 19, 21, 22, T0, false);
        AuditEntry.collect(req, fresh, BY, T0, out);
        assertEquals(
                List.of(new AuditEntry(
                        T0, "reserve", "SEC", List.of("SEC-20", "SEC-21"), null, 19, 21, "why", "who", "k", BY)),
                out);
        out.clear();
        AuditEntry.collect(
                req,
                new Response.Reserved(null, "SEC", List.of("SEC-20"), List.of(20L), 19, 20, 21, T0, true),
                BY,
                T0,
                out);
        AuditEntry.collect(req, Response.Failure.of(null, ErrorCode.INVALID_COUNT, "no"), BY, T0, out);
        AuditEntry.collect(
                new Request.SetCounter(null, "SEC", 5, false), new Response.CounterSet(null, "SEC", 5, 5), BY, T0, out);
        AuditEntry.collect(new Request.Peek(null, null), new Response.Counters(null, new TreeMap<>()), BY, T0, out);
        assertEquals(List.of(), out, "replays, failures, no-op sets and reads write nothing");

        AuditEntry.collect(
                new Request.Init(null, "x", Map.of()),
                new Response.Initialized(
                        null,
                        2,
                        new TreeMap<>(Map.of("SEC", 5L, "UX", 0L)),
                        new TreeMap<>(Map.of("SEC", 5L, "UX", 3L))),
                BY,
                T0,
                out);
        assertEquals(
                List.of(new AuditEntry(T0, "init", "UX", null, null, 0, 3, null, null, null, BY)),
                out,
                "init: only raised counters");
    }
}
