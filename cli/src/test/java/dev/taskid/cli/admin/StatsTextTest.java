package dev.taskid.cli.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@code taskid stats} for people: aligned {@code key: value} lines, no Java maps, human
 * units, and each figure names its window (lifetime figures beside percentiles over only the
 * recent batches were read as one window). The figures are the daemon's wire fields.
 */
class StatsTextTest {
    @Test
    void alignedKeyValueLinesInHumanUnitsEachWithItsWindow() {
        Map<String, Object> daemon = new LinkedHashMap<>();
        daemon.put("pid", 4242L);
        daemon.put("epoch", "e1");
        daemon.put("uptimeSeconds", 3723L);
        daemon.put("requests", new TreeMap<>(Map.of("create", 2L, "reserve", 6L)));
        daemon.put("idsAllocated", 18L);
        daemon.put("batches", 9000L);
        daemon.put("meanBatchSize", 23.7421);
        daemon.put("maxBatchSize", 120L);
        daemon.put("percentileWindow", 4096L);
        daemon.put("batchSizeP50", 115L);
        daemon.put("batchSizeP99", 120L);
        daemon.put("batchSizeHistogram", new LinkedHashMap<>(Map.of("1", 3L)));
        daemon.put("persists", 12L);
        daemon.put("persistFailures", 0L);
        daemon.put("persistMillisP50", 29.140577);
        daemon.put("persistMillisP99", 1234.5);
        daemon.put("persistMillisHistogram", new LinkedHashMap<>(Map.of("<=32", 12L)));
        daemon.put("errors", Map.of());
        daemon.put("connectionsOpen", 1L);
        daemon.put("connectionsTotal", 5L);
        Map<String, Object> audit = StatsCommand.auditFigures(
                dev.taskid.backend.AuditTrail.local(
                        java.nio.file.Path.of("/nonexistent-taskid-dir"), new dev.taskid.json.Json()),
                java.time.Instant.MIN);

        List<String> lines = StatsCommand.text(daemon, audit, null);
        int column = valueColumn(lines.get(0));
        for (String line : lines) {
            assertFalse(line.contains("{") || line.contains("="), "no Java maps: " + line);
            assertEquals(column, valueColumn(line), "values aligned:\n" + String.join("\n", lines));
        }
        String text = String.join("\n", lines);
        assertTrue(text.contains("persist time, last 12 persists"), text);
        assertTrue(text.contains("p50 29.1 ms, p99 1.23 s"), "human units: " + text);
        assertTrue(text.contains("batch size, last 4096 batches") && text.contains("p50 115, p99 120"), text);
        assertTrue(text.contains("batches since start") && text.contains("mean size 23.7, max 120"), text);
        assertTrue(text.contains("requests since start") && text.contains("create 2, reserve 6"), text);
        assertTrue(text.contains("persist times since start") && text.contains("≤32 ms: 12"), text);
        assertTrue(text.contains("up 1h 02m 03s"), text);
        assertTrue(text.contains("changes in the audit log"), text);
    }

    /** Where the value starts: after the key's colon and the padding. */
    private static int valueColumn(String line) {
        int i = line.indexOf(':') + 1;
        while (line.charAt(i) == ' ') {
            i++;
        }
        return i;
    }
}
