package dev.taskid.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.allocator.Ledger;
import dev.taskid.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The highest number issued per prefix, from the audit log and its summary, across rotation. */
class HighWaterTest {
    private static final AuditEntry.Requester BY = new AuditEntry.Requester(4242, 1000, AuditLog.FALLBACK, 3);
    private static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
    private final Json json = new Json();

    @TempDir
    Path dir;

    private static AuditEntry reserve(String prefix, long to) {
        return new AuditEntry(
                T0, "reserve", prefix, List.of(prefix + "-" + to), null, to - 1, to, null, null, null, BY);
    }

    @Test
    void marksFollowTheLogAndSurviveRotationAndRemovalOfOldFiles() throws Exception {
        AuditLog log = new AuditLog(dir, new Config.AuditOptions(4096, 1));
        HighWater hw = new HighWater(dir, json);
        log.append(List.of(reserve("UX", 7)));
        assertEquals(Map.of("UX", 7L), hw.marks(true));
        for (int i = 1; i <= 200; i++) { // ~30 KiB: rotated many times, only one old file kept
            log.append(List.of(reserve("SEC", i)));
            if (i % 50 == 0) {
                assertEquals(Map.of("UX", 7L, "SEC", (long) i), hw.marks(true), "at " + i);
            }
        }
        assertFalse(Files.readString(dir.resolve("audit.log.1")).contains("\"UX\""), "UX's line was rotated away");
        assertEquals(Map.of("UX", 7L, "SEC", 200L), hw.marks(true), "the summary keeps it");

        Ledger rewound = new Ledger(Map.of("SEC", 150L, "UX", 7L), List.of());
        assertEquals(List.of(new HighWater.Rewound("SEC", 150, 200)), hw.rewound(rewound, true));
        assertTrue(hw.rewound(new Ledger(Map.of("SEC", 200L, "UX", 9L), List.of()), true)
                .isEmpty());

        // set --force lowers on purpose: the mark follows it down
        log.append(List.of(new AuditEntry(T0, "set", "SEC", null, null, 200, 3, null, null, null, BY)));
        assertEquals(3L, hw.marks(true).get("SEC"));
    }

    @Test
    void anUnreadableSummaryIsRebuiltFromTheLog() throws Exception {
        AuditLog log = new AuditLog(dir, Config.AuditOptions.DEFAULT);
        log.append(List.of(reserve("SEC", 40)));
        HighWater hw = new HighWater(dir, json);
        assertEquals(Map.of("SEC", 40L), hw.marks(true));
        Files.writeString(hw.path(), "{\"version\":1,\"marks\":{\"SEC\":1,\"SEC\":0}}");
        assertEquals(Map.of("SEC", 40L), hw.marks(true));
    }

    @Test
    void aLongTailIsFoldedIntoTheSummary() throws Exception {
        AuditLog log = new AuditLog(dir, Config.AuditOptions.DEFAULT);
        HighWater hw = new HighWater(dir, json);
        log.append(List.of(reserve("SEC", 1)));
        hw.marks(true);
        String before = Files.readString(hw.path());
        for (int i = 2; i <= 600; i++) { // > 64 KiB of lines
            log.append(List.of(reserve("SEC", i)));
        }
        assertEquals(600L, hw.marks(true).get("SEC"));
        String after = Files.readString(hw.path());
        assertTrue(!after.equals(before) && after.contains("600"), after);
        assertEquals(600L, hw.marks(false).get("SEC"));
    }
}
