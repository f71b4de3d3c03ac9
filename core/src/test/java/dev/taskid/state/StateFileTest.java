package dev.taskid.state;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.allocator.Ledger;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** counters.json: formats v1 and v2, durable writes, and a corrupt file that is never touched. */
class StateFileTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
    private static final Instant AT = Instant.parse("2026-11-25T09:59:58.250Z");
    private final Json json = new Json();

    @TempDir
    Path tmp;

    private StateFile file() {
        return new StateFile(tmp.resolve("counters.json"), json, CLOCK);
    }

    private static String compact(String text) {
        return text.replaceAll("\\s", "");
    }

    private List<Path> listing() throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> tmp.relativize(p)).sorted().toList();
        }
    }

    @Test
    void missingFileReadsAsEmpty() {
        assertEquals(Optional.empty(), file().read());
    }

    @Test
    void writesCountersAndGenerationCompactlyButNotTheKeys() throws Exception {
        Ledger l = new Ledger(
                Map.of("SEC", 19L, "UX", 3L),
                List.of(
                        new Ledger.KeyRecord("k2", "SEC", 2, 18, AT),
                        new Ledger.KeyRecord("k1", "UX", 1, 3, AT.plusSeconds(1))),
                Map.of(),
                7);
        file().write(l);
        String text = Files.readString(file().path());
        assertEquals(
                "{\"version\":1,\"gen\":7,\"counters\":{\"SEC\":19,\"UX\":3}}\n",
                text,
                "one compact line; the keys live in keys.log");
        Ledger back = file().read().orElseThrow();
        assertEquals(l.counters(), back.counters());
        assertEquals(7, back.generation());
        assertFalse(back.dirty());
        assertEquals(List.of(Path.of("counters.json")), listing(), "no temp file left");
    }

    @Test
    void readsTheKeysOfAnOlderVersionsFile() throws Exception {
        Files.writeString(
                file().path(),
                "{\n  \"version\" : 1,\n  \"counters\" : {\"SEC\":19,\"UX\":3},\n  \"keys\" : ["
                        + "{\"key\":\"k2\",\"prefix\":\"SEC\",\"count\":2,\"first\":18,\"at\":\"2026-11-25T09:59:58.250Z\"},"
                        + "{\"key\":\"k1\",\"prefix\":\"UX\",\"count\":1,\"first\":3,\"at\":\"2026-11-25T09:59:59.250Z\"}]\n}\n");
        Ledger back = file().read().orElseThrow();
        assertEquals(
                List.of(
                        new Ledger.KeyRecord("k2", "SEC", 2, 18, AT),
                        new Ledger.KeyRecord("k1", "UX", 1, 3, AT.plusSeconds(1))),
                List.copyOf(back.keys()),
                "keys keep their order (oldest first)");
        assertEquals(0, back.generation(), "no gen: an older version's file");
    }

    @Test
    void noKeysNoKeysField() throws Exception {
        file().write(new Ledger(Map.of("SEC", 19L), List.of()));
        assertEquals(
                "{\"version\":1,\"counters\":{\"SEC\":19}}",
                compact(Files.readString(file().path())),
                "the issue's shape");
    }

    @Test
    void activeNumbersMakeVersion2() throws Exception {
        Ledger l = new Ledger(Map.of("PROJECT", 1042L), List.of(), Map.of("PROJECT", Map.of(42L, 1042L, 0L, 1000L)));
        file().write(l);
        assertEquals(
                "{\"version\":2,\"counters\":{\"PROJECT\":1042},\"active\":{\"PROJECT\":{\"0\":1000,\"42\":1042}}}",
                compact(Files.readString(file().path())));
        Ledger back = file().read().orElseThrow();
        assertEquals(l.activeNumbers(), back.activeNumbers());
        assertEquals(l.counters(), back.counters());
    }

    @Test
    void readsHandWrittenFilesOfBothVersions() throws Exception {
        Files.writeString(file().path(), "{\"version\":1,\"counters\":{\"SEC\":19,\"UX\":0}}");
        assertEquals(Map.of("SEC", 19L, "UX", 0L), file().read().orElseThrow().counters());
        Files.writeString(
                file().path(), "{ \"version\": 2, \"counters\": {\"P\": 5}, \"active\": {\"P\": {\"5\": 5}} }\n");
        Ledger v2 = file().read().orElseThrow();
        assertEquals(Map.of("P", Map.of(5L, 5L)), v2.activeNumbers());
    }

    @Test
    void aLeftoverTempFileIsIgnoredAndReplaced() throws Exception {
        file().write(new Ledger(Map.of("SEC", 19L), List.of()));
        Path leftover = DurableFiles.tmpFor(file().path()); // ours: a process that had our pid before
        Files.writeString(leftover, "{\"version\":1,\"counters\":{\"SEC\":999}} and a torn tail");
        assertEquals(Map.of("SEC", 19L), file().read().orElseThrow().counters(), "a crash's .tmp is not the state");
        file().write(new Ledger(Map.of("SEC", 20L), List.of()));
        assertEquals(Map.of("SEC", 20L), file().read().orElseThrow().counters());
        assertFalse(Files.exists(leftover), "the next write consumed it");
    }

    @Test
    void eachProcessWritesItsOwnTempFileAndOnlyDeadOnesAreRemoved() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path dead = tmp.resolve("counters.json." + gone.pid() + ".tmp");
        Path live = tmp.resolve("counters.json."
                + ProcessHandle.current().parent().orElseThrow().pid() + ".tmp");
        Path foreign = tmp.resolve("notes.tmp");
        for (Path p : List.of(dead, live, foreign)) {
            Files.writeString(p, "{\"version\":1,\"counters\":{\"SEC\":999}}");
        }
        file().write(new Ledger(Map.of("SEC", 20L), List.of()));
        assertTrue(DurableFiles.tmpFor(file().path())
                .getFileName()
                .toString()
                .equals("counters.json." + ProcessHandle.current().pid() + ".tmp"));
        DurableFiles.removeDeadLeftovers(tmp);
        assertFalse(Files.exists(dead), "a dead process's leftover is removed");
        assertTrue(Files.exists(live) && Files.exists(foreign), "a live writer's file, and what is not ours, stay");
        assertEquals(Map.of("SEC", 20L), file().read().orElseThrow().counters());
    }

    @Test
    void rewritingKeepsNothingButTheNewContent() throws Exception {
        StateFile f = file();
        for (long n = 1; n <= 20; n++) {
            f.write(new Ledger(Map.of("SEC", n), List.of()));
        }
        assertEquals(Map.of("SEC", 20L), f.read().orElseThrow().counters());
        assertEquals(List.of(Path.of("counters.json")), listing());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "\n",
                "{",
                "{\"version\":1,\"counters\":{\"SEC\":19}",
                "{\"version\":1,\"counters\":{\"SEC\":19}}{}",
                "[1]",
                "null",
                "\u0000\u0000\u0000\u0000",
                "{\"counters\":{\"SEC\":19}}",
                "{\"version\":3,\"counters\":{\"SEC\":19}}",
                "{\"version\":\"1\",\"counters\":{\"SEC\":19}}",
                "{\"version\":1}",
                "{\"version\":1,\"counters\":[19]}",
                "{\"version\":1,\"counters\":{\"SEC\":-1}}",
                "{\"version\":1,\"counters\":{\"SEC\":\"19\"}}",
                "{\"version\":1,\"counters\":{\"SEC\":19.5}}",
                "{\"version\":1,\"counters\":{\"SEC\":1000000000000000}}",
                "{\"version\":1,\"counters\":{\"SEC\":null}}",
                "{\"version\":1,\"counters\":{\"sec\":19}}",
                "{\"version\":1,\"counters\":{\"SEC\":19},\"keys\":[5]}",
                "{\"version\":1,\"counters\":{\"SEC\":19},\"keys\":[{\"key\":\"k\"}]}",
                "{\"version\":1,\"counters\":{\"SEC\":19},\"keys\":[{\"key\":\"k\",\"prefix\":\"SEC\",\"count\":1,\"first\":1}]}",
                "{\"version\":1,\"counters\":{\"SEC\":19},\"keys\":[{\"key\":\"k\",\"prefix\":\"SEC\",\"count\":1,\"first\":1,\"at\":\"soon\"}]}",
                "{\"version\":1,\"counters\":{\"SEC\":19},\"keys\":[{\"key\":5,\"prefix\":\"SEC\",\"count\":1,\"first\":1,\"at\":\"2026-11-25T10:00:00Z\"}]}",
                "{\"version\":1,\"counters\":{\"SEC\":19},\"keys\":[{\"prefix\":\"SEC\",\"count\":1,\"first\":1,\"at\":\"2026-11-25T10:00:00Z\"}]}",
                "{\"version\":2,\"counters\":{\"P\":5},\"active\":[5]}",
                "{\"version\":2,\"counters\":{\"P\":5},\"active\":{\"P\":{\"five\":5}}}",
                "{\"version\":2,\"counters\":{\"P\":5},\"active\":{\"P\":{\"5\":-5}}}",
                "{\"version\":2,\"counters\":{\"P\":5},\"active\":{\"p\":{\"5\":5}}}",
                "{\"version\":1,\"counters\":{},\"keys\":[null]}",
                "{\"version\":1,\"counters\":{\"SEC\":100,\"SEC\":3}}",
                "{\"version\":1,\"counters\":{\"SEC\":100},\"counters\":{\"SEC\":3}}",
                "{\"version\":2,\"counters\":{\"P\":5},\"active\":{\"P\":{\"5\":5,\"5\":0}}}",
            })
    void aCorruptFileIsStateCorruptUntouchedAndCopied(String content) throws Exception {
        byte[] bytes = content.getBytes(UTF_8);
        Files.write(file().path(), bytes);
        TaskIdException e = assertThrows(TaskIdException.class, () -> file().read());
        assertEquals(ErrorCode.STATE_CORRUPT, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains("left untouched"), e.getMessage());
        assertTrue(e.getMessage().contains("taskid recover"), "says how to recover: " + e.getMessage());
        assertEquals(Map.of("file", file().path().toString()), e.details());
        assertArrayEquals(bytes, Files.readAllBytes(file().path()), "byte for byte untouched");
        Path copy = tmp.resolve("counters.json.corrupt-20261125T100000Z");
        assertArrayEquals(bytes, Files.readAllBytes(copy));
        assertTrue(e.getMessage().contains(copy.toString()), e.getMessage());

        // reading again keeps refusing, without a second copy of the same content
        assertEquals(
                ErrorCode.STATE_CORRUPT,
                assertThrows(TaskIdException.class, () -> file().read()).code());
        assertEquals(List.of(Path.of("counters.json"), Path.of("counters.json.corrupt-20261125T100000Z")), listing());
        assertArrayEquals(bytes, Files.readAllBytes(file().path()));
    }

    @Test
    void aCorruptFileIsStillReportedWhenItsCopyCannotBeMade() throws Exception {
        Files.writeString(file().path(), "{");
        Files.writeString(tmp.resolve("counters.json.corrupt-20261125T100000Z"), "other content, same second");
        TaskIdException e = assertThrows(TaskIdException.class, () -> file().read());
        assertEquals(ErrorCode.STATE_CORRUPT, e.code());
        assertTrue(e.getMessage().contains("could not be saved"), e.getMessage());
        assertEquals("{", Files.readString(file().path()));
    }

    @Test
    void inspectReadsWithoutSideEffects() throws Exception {
        Files.writeString(file().path(), "{");
        StateFile.Inspection bad = file().inspect(file().path());
        assertTrue(bad.exists());
        assertFalse(bad.readable());
        assertEquals(List.of(Path.of("counters.json")), listing(), "no copy made by inspect");
        assertFalse(file().inspect(tmp.resolve("nope")).exists());
        file().write(new Ledger(Map.of("SEC", 1L), List.of()));
        assertEquals(Map.of("SEC", 1L), file().inspect(file().path()).ledger().counters());
    }
}
