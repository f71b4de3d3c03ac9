package dev.taskid.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TaskIdTest {

    @ParameterizedTest
    @CsvSource({
        "SEC-20, SEC, 20",
        "SEC-019, SEC, 19", // zero-padded IDs are the same task as unpadded ones
        "S-1, S, 1",
        "A234567890123456-7, A234567890123456, 7", // 16 characters: the longest prefix
        "INFRA2-999999999999999, INFRA2, 999999999999999", // Protocol.MAX_NUMBER, 15 digits
        "DEV-000000000000001, DEV, 1",
    })
    void parsesValidIds(String text, String prefix, long number) {
        assertEquals(Optional.of(new TaskId(prefix, number)), TaskId.parse(text));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "SEC",
                "SEC-",
                "-20",
                "SEC-0",
                "SEC-000",
                "sec-20",
                "Sec-20",
                "1SEC-20",
                "SEC_20",
                "SEC 20",
                "SEC--20",
                "SEC-+20",
                "SEC--1",
                "SEC-20a",
                " SEC-20",
                "SEC-20 ",
                "SEC-20\n",
                "XSEC-20x",
                "A2345678901234567-1", // 17-character prefix
                "SEC-1000000000000000", // 16 digits: beyond MAX_NUMBER
                "SEC-\u0661\u0662", // Arabic-Indic digits are not [0-9]
                "\u0405EC-1", // Cyrillic DZE looks like S
            })
    void rejectsAnythingElse(String text) {
        assertEquals(Optional.empty(), TaskId.parse(text));
    }

    @Test
    void prefixRule() {
        assertTrue(TaskId.isPrefix("SEC"));
        assertTrue(TaskId.isPrefix("A"));
        assertTrue(TaskId.isPrefix("P2P"));
        assertTrue(TaskId.isPrefix("ABCDEFGHIJKLMNOP"));
        assertFalse(TaskId.isPrefix("ABCDEFGHIJKLMNOPQ"));
        assertFalse(TaskId.isPrefix("2FA"));
        assertFalse(TaskId.isPrefix("Sec"));
        assertFalse(TaskId.isPrefix("SE-C"));
        assertFalse(TaskId.isPrefix(""));
        assertFalse(TaskId.isPrefix(null));
        assertFalse(TaskId.isPrefix("SEC\n"));
    }

    @ParameterizedTest
    @CsvSource({
        "SEC, 20, 0, SEC-20",
        "SEC, 7, 3, SEC-007",
        "SEC, 0, 3, SEC-000", // 0 is a number of wrapped sequences
        "SEC, 1234, 3, SEC-1234", // wider than the width: never truncated
        "SEC, 999, 3, SEC-999",
        "PROJECT, 42, 15, PROJECT-000000000000042",
        "SEC, 999999999999999, 0, SEC-999999999999999",
    })
    void formatsWithWidth(String prefix, long number, int width, String expected) {
        assertEquals(expected, TaskId.format(prefix, number, width));
    }

    @Test
    void formattedIdsParseBackToTheSameId() {
        for (int width = 0; width <= 15; width++) {
            for (long n : new long[] {1, 9, 10, 99, 1000, 123_456_789, Protocol.MAX_NUMBER}) {
                assertEquals(Optional.of(new TaskId("UX", n)), TaskId.parse(TaskId.format("UX", n, width)));
            }
        }
        assertEquals("SEC-20", new TaskId("SEC", 20).toString());
    }
}
