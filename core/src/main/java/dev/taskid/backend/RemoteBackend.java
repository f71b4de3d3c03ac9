package dev.taskid.backend;

import java.util.List;

/** A shared backend (PostgreSQL): a {@link StateBackend} plus what {@code taskid backend} and {@code doctor} ask of it. */
public interface RemoteBackend extends StateBackend {
    /**
     * Creates or upgrades the schema; idempotent and safe from many hosts at once.
     *
     * @return what was done, one sentence
     */
    String initSchema();

    /** Doctor's checks: reachable, schema version, durability settings, round-trip time. */
    List<Check> diagnose();

    /** One doctor check. */
    record Check(String name, boolean ok, String detail) {
    }
}
