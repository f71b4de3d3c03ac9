package dev.taskid.client;

import dev.taskid.allocator.Allocator;
import dev.taskid.json.Json;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.Version;
import dev.taskid.state.AuditEntry;
import dev.taskid.state.AuditLog;
import dev.taskid.state.Config;
import dev.taskid.state.StateFile;
import dev.taskid.state.StateLock;
import dev.taskid.state.StateStore;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * The file-lock mode: this process applies a request itself while holding the state lock,
 * with the same store and allocator the daemon uses. Read, apply, save durably, release.
 */
final class LockedState implements AutoCloseable {
    private final StateStore store;
    private final Config config;
    private final Allocator allocator;
    private final Clock clock;
    private boolean warm;
    private final Json json = new Json();

    LockedState(StateStore store, Config config, Clock clock) {
        this.clock = clock;
        this.store = store;
        this.config = config;
        this.allocator = new Allocator(config, clock);
    }

    Config config() {
        return config;
    }

    StateLock lock() {
        return store.lock();
    }

    StateStore store() {
        return store;
    }

    /**
     * Runs a reservation once, before taking the lock, on a private copy of the stored
     * counters, writing nothing: a fresh JVM spends most of its first run loading classes
     * (~13 ms of CPU here, ~2 ms once warm), and every waiter waits for the holder. With many
     * JVMs starting at once on few cores that CPU time stretches to hundreds of milliseconds of
     * holding the lock. The copy is read without the lock, which is safe because it is only
     * thrown away: {@link StateFile#inspect} has no side effects and the file is replaced by
     * rename, so it is always one whole version.
     */
    void warmUp(Request request) {
        if (warm || !(request instanceof Request.Reserve)) {
            return; // class loading is once per process: a long-lived client (taskid mcp) pays it once
        }
        warm = true;
        StateFile.Inspection stored = store.file().inspect(store.file().path());
        if (!stored.readable()) {
            return; // first use or unreadable: the locked run reports it
        }
        try {
            Response response = allocator.apply(stored.ledger(), request);
            List<AuditEntry> entries = new java.util.ArrayList<>(1);
            AuditEntry.collect(
                    request, response, AuditEntry.Requester.self(AuditLog.FALLBACK, 0), clock.instant(), entries);
            entries.forEach(e -> e.toJson(json));
            store.file().encode(stored.ledger());
        } catch (RuntimeException e) {
            // only a warm-up: whatever failed here fails again under the lock and is reported there
        }
    }

    /** Applies {@code request}; the caller holds the lock and waited {@code waitedMillis} for it. */
    Reply apply(Request request, long waitedMillis) {
        if (request instanceof Request.Hello) {
            return new Reply(
                    new Response.Hello(
                            request.id(),
                            Protocol.VERSION,
                            Version.CURRENT,
                            List.of("reserve", "peek", "validate", "set", "init", "archive", "keys"),
                            ProcessHandle.current().pid(),
                            store.dir().dir().toString(),
                            "fallback",
                            Mode.FALLBACK.wireName()),
                    Mode.FALLBACK,
                    waitedMillis,
                    java.util.Optional.empty());
        }
        if (request instanceof Request.Ping) {
            return new Reply(new Response.Pong(request.id()), Mode.FALLBACK, waitedMillis, java.util.Optional.empty());
        }
        if (request instanceof Request.Stats) {
            return new Reply(
                    new Response.Stats(request.id(), Map.of("mode", "fallback", "lockWaitMs", waitedMillis)),
                    Mode.FALLBACK,
                    waitedMillis,
                    java.util.Optional.empty());
        }
        AuditEntry.Requester me = AuditEntry.Requester.self(AuditLog.FALLBACK, waitedMillis);
        StateStore.Loaded loaded = store.load(config, me, !request.mutates());
        Response response = allocator.apply(loaded.ledger(), request);
        if (loaded.ledger().dirty()) {
            List<AuditEntry> entries = new java.util.ArrayList<>(1);
            AuditEntry.collect(request, response, me, clock.instant(), entries);
            store.commit(loaded.ledger(), entries); // counters.json, then audit.log; throws SYSTEM_ERROR
        }
        return new Reply(response, Mode.FALLBACK, waitedMillis, loaded.notice());
    }

    @Override
    public void close() {
        store.close();
    }
}
