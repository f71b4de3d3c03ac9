package dev.taskid.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskid.protocol.Protocol;
import dev.taskid.state.Config;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What counts as an ID already in use. Missing one hands it out again (a duplicate); counting
 * one too many only leaves a gap. So where markdown is ambiguous the scanner counts.
 */
class IdScannerTest {
    private final IdScanner scanner = new IdScanner(Set.copyOf(Config.DEFAULT_PREFIXES));

    private IdScanner.Found scan(String text) {
        return scanner.scan(text);
    }

    @Test
    void findsIdsInEveryMarkdownShape() {
        String tasks = String.join(
                "\n",
                "# Tasks",
                "| ID | Title | Status |",
                "|----|-------|--------|",
                "| SEC-19 | Fix auth | ready |",
                "|SEC-7|tight cells|done|",
                "- SEC-3 list item",
                "* [x] UX-12: checkbox",
                "1. PERF-4 numbered",
                "Prose mentions (DOC-5), [ARCH-6](https://x/ARCH-6) and **TEST-8**, *DEV-9*, ~~FIN-10~~.",
                "Inline code `DRY-11` and `DS-12,MKT-13`;",
                "```",
                "fenced CNT-14",
                "```",
                "## INFRA-15: heading",
                "> OPS-16 quoted",
                "<td>SEC-21</td>",
                "SEC-20.");
        IdScanner.Found f = scan(tasks);
        assertEquals(
                Map.ofEntries(
                        Map.entry("SEC", 21L),
                        Map.entry("UX", 12L),
                        Map.entry("PERF", 4L),
                        Map.entry("DOC", 5L),
                        Map.entry("ARCH", 6L),
                        Map.entry("TEST", 8L),
                        Map.entry("DEV", 9L),
                        Map.entry("FIN", 10L),
                        Map.entry("DRY", 11L),
                        Map.entry("DS", 12L),
                        Map.entry("MKT", 13L),
                        Map.entry("CNT", 14L),
                        Map.entry("INFRA", 15L),
                        Map.entry("OPS", 16L)),
                f.highest());
        assertEquals(19, f.count(), "every occurrence counts, ARCH-6 twice");
    }

    @Test
    void paddedIdsAreTheirNumber() {
        assertEquals(Map.of("SEC", 19L), scan("SEC-019 and SEC-0007").highest());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "sec-50",
                "Sec-50",
                "sEC-50", // lower case: not a prefix
                "FOO-50",
                "SECURITY-50",
                "SE-50", // not configured
                "XSEC-50",
                "xSEC-50",
                "1SEC-50",
                "FOO-SEC-50", // glued onto another word or ID
                "SEC-0",
                "SEC-000", // 0 is never handed out by an unwrapped prefix
                "SEC-",
                "SEC 50",
                "SEC_50",
                "SEC—50", // not PREFIX-NUMBER
                "SEC-1234567890123456", // 16 digits: beyond the largest number, not an ID
            })
    void ignoresWhatIsNotAConfiguredId(String text) {
        assertEquals(new IdScanner.Found(Map.of(), 0), scan("before " + text + " after"));
        assertEquals(new IdScanner.Found(Map.of(), 0), scan(text));
    }

    @ParameterizedTest
    @CsvSource({
        "SEC-20a, 20", // a sub-task of SEC-20: SEC-20 is in use
        "SEC-20-1, 20",
        "SEC-20_draft, 20",
        "_SEC-20_, 20", // markdown emphasis with underscores
        "__SEC-20__, 20",
        "SEC-20/UX, 20",
        "'SEC-20', 20",
        "(SEC-20), 20",
        "\"SEC-20\", 20",
        "#SEC-20, 20",
        "SEC-999999999999999, 999999999999999",
    })
    void countsIdsFollowedOrWrappedByPunctuation(String text, long number) {
        assertEquals(Map.of("SEC", number), scan(text).highest(), text);
    }

    @Test
    void largestNumberIsTheProtocolMaximum() {
        assertEquals(
                Protocol.MAX_NUMBER,
                scan("SEC-" + Protocol.MAX_NUMBER).highest().get("SEC"));
    }

    @Test
    void onlyConfiguredPrefixesCount() {
        IdScanner custom = new IdScanner(Set.of("QA", "P2P"));
        assertEquals(
                Map.of("QA", 3L, "P2P", 9L),
                custom.scan("QA-3 SEC-40 P2P-9 QA-1").highest());
    }

    @Test
    void emptyText() {
        assertEquals(new IdScanner.Found(Map.of(), 0), scan(""));
    }

    @Test
    void aLargeFileIsScannedWhole() {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= 50_000; i++) {
            sb.append("| SEC-").append(i).append(" | task ").append(i).append(" | ready |\n");
        }
        IdScanner.Found f = scanner.scan(sb);
        assertEquals(50_000L, f.highest().get("SEC"));
        assertEquals(50_000, f.count());
    }
}
