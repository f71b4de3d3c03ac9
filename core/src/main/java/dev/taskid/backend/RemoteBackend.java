package dev.taskid.backend;

import dev.taskid.state.AuditEntry;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** A shared backend (PostgreSQL): a {@link StateBackend} plus what {@code taskid backend} and {@code doctor} ask of it. */
public interface RemoteBackend extends StateBackend {
    /**
     * Creates or upgrades the schema; idempotent and safe from many hosts at once.
     *
     * @return what was done, one sentence
     */
    String initSchema();

    /**
     * Reads this project's audit rows (every host's), oldest first, as {@link AuditTrail#read}
     * does; streamed, so memory stays bounded however long the history.
     *
     * @throws dev.taskid.protocol.TaskIdException BACKEND_UNAVAILABLE when the backend does not answer in time
     */
    int readAudit(Predicate<String> lineFilter, Consumer<AuditEntry> sink);

    /** Doctor's checks: reachable, schema version, durability settings, round-trip time. */
    List<Check> diagnose();

    /** One doctor check. */
    record Check(String name, boolean ok, String detail) {}
}
