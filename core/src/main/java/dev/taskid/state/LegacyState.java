package dev.taskid.state;

import dev.taskid.allocator.Ledger;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Moves the state an earlier version kept in {@code <root>/.taskid/} (where {@code git clean
 * -xfd} deletes it) into the state directory in the git common dir. Runs under the state
 * lock, and under the legacy directory's lock too, so an older taskid still serving there is
 * not robbed. Never lowers a counter: when both places hold counters, each prefix gets the
 * higher value. Runs again whenever a legacy counters.json appears (an older client wrote
 * one): the move is idempotent, so a crash half-way through is finished by the next call.
 */
final class LegacyState {
    private static final String COUNTERS = "counters.json";
    private static final List<String> OTHERS = List.of("counters.json.prev", "inbox.json", "shim-backup");

    private final StateDir dir;
    private final StateFile file;
    private final Clock clock;

    LegacyState(StateDir dir, StateFile file, Clock clock) {
        this.dir = dir;
        this.file = file;
        this.clock = clock;
    }

    /** Whether there is anything to move (one or two stats: cheap enough for every load). */
    boolean pending() {
        Optional<Path> legacy = dir.legacy();
        return legacy.isPresent()
                && (Files.exists(legacy.get().resolve(COUNTERS), LinkOption.NOFOLLOW_LINKS)
                        || Files.exists(legacy.get().resolve(AuditLog.FILE), LinkOption.NOFOLLOW_LINKS));
    }

    /**
     * Moves what is there; the caller holds the state lock. Returns the notice for stderr.
     *
     * @throws TaskIdException LOCK_TIMEOUT when an older taskid holds the legacy lock,
     *                         STATE_CORRUPT when either counters file is unreadable (nothing moved)
     */
    Optional<String> migrate() {
        if (!pending()) {
            return Optional.empty();
        }
        Path legacy = dir.legacy().orElseThrow();
        try (StateLock legacyLock = new StateLock(legacy.resolve("lock"), clock);
                StateLock.Held held = legacyLock
                        .tryAcquire("moving the state to " + dir.dir())
                        .orElseThrow(() -> new TaskIdException(
                                ErrorCode.LOCK_TIMEOUT,
                                "an older taskid (" + describe(legacyLock)
                                        + ") uses the state in " + legacy
                                        + ": stop it (taskid daemon stop with that version),"
                                        + " then run again; this version keeps the state in " + dir.dir(),
                                Map.of("holder", legacyLock.holder()),
                                null))) {
            List<String> moved = new ArrayList<>();
            moveAuditLogs(legacy, moved);
            for (String name : OTHERS) {
                moveAside(legacy.resolve(name), dir.dir().resolve(name), moved);
            }
            String counters = moveCounters(legacy.resolve(COUNTERS), moved);
            fsync(dir.dir());
            fsync(legacy);
            return Optional.of("taskid: moved the state from " + legacy + " to " + dir.dir()
                    + " (git clean cannot reach it there; config.json stays in " + legacy + "): "
                    + String.join(", ", moved) + counters);
        } catch (IOException e) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "cannot move the state from " + legacy + " to " + dir.dir() + ": " + e.getMessage()
                            + " (nothing was lost: run again once fixed)",
                    Map.of(),
                    e);
        }
    }

    private static String describe(StateLock lock) {
        String holder = lock.holder();
        return holder.isEmpty() ? "another process" : holder;
    }

    /** counters.json: moved, or merged taking the higher value of each prefix. Last, so its presence means "not done". */
    private String moveCounters(Path legacyCounters, List<String> moved) throws IOException {
        StateFile.Inspection old = file.inspect(legacyCounters);
        if (!old.exists()) {
            return "";
        }
        if (!old.readable()) {
            throw new TaskIdException(
                    ErrorCode.STATE_CORRUPT,
                    legacyCounters + " is unreadable (" + old.problem()
                            + "); it was not moved. Fix or remove it by hand after checking, then run again",
                    Map.of("file", legacyCounters.toString()),
                    null);
        }
        StateFile.Inspection current = file.inspect(file.path());
        if (current.exists() && !current.readable()) {
            throw new TaskIdException(
                    ErrorCode.STATE_CORRUPT,
                    file.path() + " is unreadable (" + current.problem() + "); " + legacyCounters
                            + " was not merged into it: run taskid recover",
                    Map.of("file", file.path().toString()),
                    null);
        }
        Ledger merged = current.exists() ? max(current.ledger(), old.ledger()) : old.ledger();
        file.writeWithKeys(merged); // StateStore.load moves the keys into keys.log
        Files.delete(legacyCounters);
        moved.add(COUNTERS);
        return current.exists()
                ? " (counters merged, the higher value of each prefix kept: " + merged.counters() + ")"
                : "";
    }

    /** Each prefix's higher counter, both sets of keys, both sets of active numbers. */
    static Ledger max(Ledger a, Ledger b) {
        Map<String, Long> counters = new TreeMap<>(a.counters());
        b.counters().forEach((p, v) -> counters.merge(p, v, Math::max));
        Map<String, Ledger.KeyRecord> keys = new LinkedHashMap<>();
        b.keys().forEach(k -> keys.put(k.key(), k));
        a.keys().forEach(k -> keys.put(k.key(), k));
        Map<String, Map<Long, Long>> active = new TreeMap<>();
        for (Ledger l : List.of(b, a)) {
            l.activeNumbers()
                    .forEach((p, numbers) ->
                            active.computeIfAbsent(p, x -> new TreeMap<>()).putAll(numbers));
        }
        return new Ledger(counters, keys.values(), active);
    }

    /**
     * The audit files keep their names when the state directory has none; otherwise they
     * become older rotations after the ones there, so nothing is overwritten and the log
     * still reads oldest first.
     */
    private void moveAuditLogs(Path legacy, List<String> moved) throws IOException {
        List<Path> old = AuditReader.files(legacy); // oldest first
        if (old.isEmpty()) {
            return;
        }
        List<Path> present = AuditReader.files(dir.dir());
        if (present.isEmpty()) {
            for (Path p : old) {
                Files.move(p, dir.dir().resolve(p.getFileName()));
            }
        } else {
            int next = present.size(); // audit.log.1 .. audit.log.(n-1) exist besides audit.log
            for (int i = old.size() - 1; i >= 0; i--) {
                Path target;
                do {
                    target = dir.dir().resolve(AuditLog.FILE + "." + next++);
                } while (Files.exists(target, LinkOption.NOFOLLOW_LINKS));
                Files.move(old.get(i), target);
            }
        }
        moved.add(old.size() + " audit log file(s)");
    }

    /** Moves {@code from} when the state directory has no such file; else keeps it there as legacy-NAME. */
    private static void moveAside(Path from, Path to, List<String> moved) throws IOException {
        if (!Files.exists(from, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path target =
                Files.exists(to, LinkOption.NOFOLLOW_LINKS) ? to.resolveSibling("legacy-" + to.getFileName()) : to;
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            return; // moved before: leave the second copy where it is rather than overwrite
        }
        Files.move(from, target);
        moved.add(target.getFileName().toString());
    }

    private static void fsync(Path directory) throws IOException {
        try (FileChannel d = FileChannel.open(directory, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
