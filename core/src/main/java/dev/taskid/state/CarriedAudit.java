package dev.taskid.state;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The daemon's audit lines that are not known durable in audit.log, oldest first: those of
 * batches installed since audit.log's last sync, and of batches prepared and not yet installed.
 * Every counters.json the daemon writes carries all of them ({@link StateFile#withAudit}), so
 * audit.log's fdatasync can wait (for more lines, or a quiet moment) without an acknowledged
 * line ever depending on it: until it is synced, the durable counters.json has the line, and
 * a load appends what audit.log lacks ({@link AuditLog#ensureEndsWith}). The lines are a tail
 * of audit.log's appends, in order, which is what that reconciliation relies on. Touched by the
 * prepare thread (add), the install thread (installed, synced) and both on failure, so guarded.
 */
final class CarriedAudit {
    private static final class Batch {
        final long generation;
        final byte[] lines;
        boolean installed;

        Batch(long generation, byte[] lines) {
            this.generation = generation;
            this.lines = lines;
        }
    }

    private final ArrayDeque<Batch> batches = new ArrayDeque<>();
    private long installedBytes;

    /** Adds the lines of the batch of {@code generation}, being prepared; returns every batch's lines to carry, its own included, oldest first. */
    synchronized List<byte[]> add(long generation, byte[] lines) {
        if (lines.length > 0) {
            batches.addLast(new Batch(generation, lines));
        }
        List<byte[]> out = new ArrayList<>(batches.size());
        for (Batch b : batches) {
            out.add(b.lines);
        }
        return out;
    }

    /** The batch of {@code generation} was renamed into place; its lines are (being) written to audit.log. */
    synchronized void installed(long generation) {
        for (Batch b : batches) {
            if (b.generation == generation && !b.installed) {
                b.installed = true;
                installedBytes += b.lines.length;
                return;
            }
        }
    }

    /** The lines of installed batches, which audit.log has (in its page cache at least), oldest first. */
    synchronized byte[] installedLines() {
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE, installedBytes));
        for (Batch b : batches) {
            if (b.installed) {
                out.writeBytes(b.lines);
            }
        }
        return out.toByteArray();
    }

    synchronized long installedBytes() {
        return installedBytes;
    }

    /** audit.log was synced after the installed batches' lines were written: they need no carrying. */
    synchronized void synced() {
        batches.removeIf(b -> b.installed);
        installedBytes = 0;
    }

    /** The batch of {@code generation} and every later one not installed will not be: their lines were never written. */
    synchronized void abandoned(long generation) {
        Iterator<Batch> it = batches.iterator();
        while (it.hasNext()) {
            Batch b = it.next();
            if (!b.installed && b.generation >= generation) {
                it.remove();
            }
        }
    }
}
