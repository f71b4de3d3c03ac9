package dev.taskid.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TmpSlotsTest {
    @TempDir
    Path dir;

    private Path target() {
        return dir.resolve("counters.json");
    }

    private static byte[] json(String body) {
        return ("{" + body + "}\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static Object inode(Path p) throws IOException {
        return Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    /** The content, then only spaces. */
    private static void assertHolds(Path p, byte[] content) throws IOException {
        byte[] bytes = Files.readAllBytes(p);
        assertArrayEquals(content, Arrays.copyOf(bytes, content.length), "the content");
        for (int i = content.length; i < bytes.length; i++) {
            assertEquals(' ', bytes[i], "byte " + i + " after the content");
        }
        assertEquals(0, bytes.length % TmpSlots.STEP, "a whole number of steps");
    }

    @Test
    void theReplacedCountersFileIsTheSlotsNextFileOverwrittenInPlace() throws IOException {
        TmpSlots slots = new TmpSlots(target());
        slots.prepare(0, json("\"a\":1"));
        slots.install(0);
        Object first = inode(target());
        slots.prepare(0, json("\"a\":2"));
        slots.install(0);
        Object second = inode(target());
        assertNotEquals(first, second);
        Path slot = DurableFiles.tmpFor(target(), 0);
        assertEquals(first, inode(slot), "the replaced counters.json is kept as the slot's file");

        byte[] longer = json("\"a\":3,\"padding\":\"" + "x".repeat(300) + "\"");
        slots.prepare(0, longer);
        assertEquals(first, inode(slot), "written in place, not made anew");
        assertHolds(slot, longer);
        slots.install(0);
        assertHolds(target(), longer);

        byte[] shorter = json("\"a\":4");
        slots.prepare(0, shorter); // in the inode that held "a":2
        slots.install(0);
        slots.prepare(0, json("\"a\":5")); // in the one that held the longer content
        assertHolds(DurableFiles.tmpFor(target(), 0), json("\"a\":5"));
        assertHolds(target(), shorter);
    }

    @Test
    void aCountersFileWithAnotherLinkIsNeverWrittenInto() throws IOException {
        TmpSlots slots = new TmpSlots(target());
        slots.prepare(0, json("\"a\":1"));
        slots.install(0);
        Path backup = dir.resolve("backup-of-counters.json");
        Files.createLink(backup, target()); // a hard-link snapshot, as rsnapshot makes
        byte[] kept = Files.readAllBytes(backup);
        slots.prepare(0, json("\"a\":2"));
        slots.install(0);
        slots.prepare(0, json("\"a\":3")); // the slot's file is the backup's inode: not reused
        slots.install(0);
        assertArrayEquals(kept, Files.readAllBytes(backup));
    }

    @Test
    void theSizeGrowsInStepsAndShrinksWhenFarTooBig() throws IOException {
        TmpSlots slots = new TmpSlots(target());
        Path slot = DurableFiles.tmpFor(target(), 0);
        byte[] big = json("\"x\":\"" + "y".repeat(3 * TmpSlots.STEP) + "\"");
        slots.prepare(0, big);
        long grown = Files.size(slot);
        assertTrue(grown >= big.length && grown % TmpSlots.STEP == 0, "size " + grown);
        slots.install(0);
        slots.prepare(0, big);
        slots.install(0);
        byte[] small = json("\"a\":1");
        slots.prepare(0, small); // the first big file's inode, far too big now
        assertEquals(TmpSlots.STEP, Files.size(slot));
        assertHolds(slot, small);
    }

    @Test
    void discardAllRemovesTheSlotsAndTheSpareName() throws IOException {
        TmpSlots slots = new TmpSlots(target());
        slots.prepare(0, json("\"a\":1"));
        slots.install(0);
        slots.prepare(1, json("\"a\":2"));
        slots.install(1);
        slots.prepare(0, json("\"a\":3"));
        slots.discardAll();
        try (var files = Files.list(dir)) {
            assertEquals(java.util.List.of(target()), files.toList());
        }
        assertFalse(Files.exists(DurableFiles.tmpFor(target(), 1)));
    }
}
