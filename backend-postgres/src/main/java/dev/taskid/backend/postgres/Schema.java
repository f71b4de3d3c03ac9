package dev.taskid.backend.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The versioned schema. {@link #init} runs every step above the stored version in ONE
 * transaction under a transaction-scoped advisory lock, so two hosts running
 * {@code taskid backend init} at once serialize (the second finds the work done) and a failed
 * upgrade leaves the previous version whole.
 */
final class Schema {
    static final int VERSION = 1;
    /** pg_advisory_xact_lock key: "taskid" in ASCII. */
    private static final long LOCK = 0x7461736b6964L;

    /** Step i brings the schema from version i to i + 1. */
    private static final List<List<String>> STEPS = List.of(List.of(
            "CREATE TABLE taskid_counters (project text NOT NULL, prefix text NOT NULL,"
                    + " n bigint NOT NULL CHECK (n >= 0), PRIMARY KEY (project, prefix))",
            "CREATE TABLE taskid_keys (project text NOT NULL, key text NOT NULL, prefix text NOT NULL,"
                    + " count bigint NOT NULL, first bigint NOT NULL, at timestamptz NOT NULL, PRIMARY KEY (project, key))",
            "CREATE INDEX taskid_keys_at ON taskid_keys (project, at)",
            "CREATE TABLE taskid_audit (id bigserial PRIMARY KEY, project text NOT NULL, host text NOT NULL,"
                    + " written timestamptz NOT NULL DEFAULT now(), line text NOT NULL)",
            "CREATE INDEX taskid_audit_project ON taskid_audit (project, id)"));

    private Schema() {}

    /** Creates or upgrades; returns what it did. */
    static String init(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_xact_lock(" + LOCK + ")");
            s.execute(
                    "CREATE TABLE IF NOT EXISTS taskid_schema (id int PRIMARY KEY CHECK (id = 1), version int NOT NULL)");
            int found = 0;
            try (ResultSet rs = s.executeQuery("SELECT version FROM taskid_schema WHERE id = 1")) {
                if (rs.next()) {
                    found = rs.getInt(1);
                }
            }
            if (found > VERSION) {
                c.rollback();
                throw new SQLException(
                        "the schema is at version " + found + ", newer than this taskid's " + VERSION
                                + ": upgrade taskid",
                        "TI001");
            }
            for (int v = found; v < VERSION; v++) {
                for (String sql : STEPS.get(v)) {
                    s.execute(sql);
                }
            }
            s.execute("INSERT INTO taskid_schema (id, version) VALUES (1, " + VERSION
                    + ") ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version");
            c.commit();
            return found == VERSION
                    ? "schema already at version " + VERSION
                    : found == 0
                            ? "created schema version " + VERSION
                            : "upgraded schema from version " + found + " to " + VERSION;
        }
    }
}
