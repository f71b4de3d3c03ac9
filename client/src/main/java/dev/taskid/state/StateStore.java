package dev.taskid.state;

import dev.taskid.allocator.IdScanner;
import dev.taskid.allocator.Ledger;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.JsonLines;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One state directory opened for writing: its config, lock and counters file. The daemon and
 * the file-lock fallback both go through this class, so both load, create and save the state
 * the same way. Holds the lock file open for its whole life (see {@link StateLock}).
 */
public final class StateStore implements AutoCloseable {
    private final StateDir dir;
    private final StateLock lock;
    private final StateFile file;

    /** Counters as loaded, and what was done to create them if they were missing. */
    public record Loaded(Ledger ledger, Optional<String> notice) {
    }

    private StateStore(StateDir dir, StateLock lock, StateFile file) {
        this.dir = dir;
        this.lock = lock;
        this.file = file;
    }

    /** Opens (creating if needed) the state directory and its lock file. */
    public static StateStore open(StateDir dir, JsonLines json, Clock clock) {
        try {
            dir.create();
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR,
                    "cannot create state directory " + dir.dir() + ": " + e.getMessage(), Map.of(), e);
        }
        return new StateStore(dir, new StateLock(dir.lock(), clock), new StateFile(dir.counters(), json, clock));
    }

    public StateDir dir() {
        return dir;
    }

    public StateLock lock() {
        return lock;
    }

    public StateFile file() {
        return file;
    }

    /**
     * Reads the counters; the caller holds the lock. On first use (no counters.json) creates
     * the file, durably, from the highest IDs in the project's TASKS.md, so new IDs never
     * collide with tasks that already exist.
     */
    public Loaded load(Config config) {
        Optional<Ledger> stored = file.read();
        if (stored.isPresent()) {
            return new Loaded(stored.get(), Optional.empty());
        }
        Path tasks = dir.projectRoot().resolve("TASKS.md");
        Ledger ledger = new Ledger();
        String notice;
        if (Files.isRegularFile(tasks)) {
            String text;
            try {
                text = Files.readString(tasks, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot read " + tasks + ": " + e.getMessage(), Map.of(), e);
            }
            IdScanner.Found found = new IdScanner(config.prefixes()).scan(text);
            found.highest().forEach(ledger::setCounter);
            notice = "taskid: created " + file.path() + " from " + found.count() + " IDs in " + tasks
                    + (found.highest().isEmpty() ? " (all counters at 0)" : ": " + summary(found.highest()));
        } else {
            notice = "taskid: created " + file.path() + " with all counters at 0 (no TASKS.md in "
                    + dir.projectRoot() + ")";
        }
        file.write(ledger);
        ledger.commit();
        return new Loaded(ledger, Optional.of(notice));
    }

    private static String summary(Map<String, Long> highest) {
        List<String> parts = highest.entrySet().stream().map(e -> e.getKey() + " -> " + e.getValue())
                .collect(Collectors.toList());
        return String.join(", ", parts);
    }

    @Override
    public void close() {
        lock.close();
    }
}
