package dev.taskid.backend.postgres;

import dev.taskid.allocator.Ledger;
import dev.taskid.backend.BackendConfig;
import dev.taskid.backend.RemoteBackend;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.TaskId;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.AuditEntry;
import dev.taskid.state.Config;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The counters in PostgreSQL. A batch is ONE transaction: {@link #begin} locks the counter rows
 * the batch may change (creating missing ones) and reads them, with the batch's idempotency keys,
 * into a fresh ledger; the allocator runs on it; {@link #commit} writes the changed counters,
 * the audit lines and the new keys, then COMMITs. Only then are answers sent. Nothing is trusted
 * from memory between batches: another host may have moved the counters since.
 *
 * <p>Locking the rows before reading them serializes every host's batches on the prefixes they
 * share; the key lookup runs after the lock, so a key committed by another host on the same
 * prefix is seen (READ COMMITTED reads what committed before each statement). Two hosts racing
 * with one key on different prefixes meet the primary key instead: the later batch fails and its
 * retry sees the key.
 *
 * <p>Used by one thread at a time (the daemon's state thread, or one CLI call).
 */
final class PgBackend implements RemoteBackend {
    private static final String LOCK_COUNTERS = "INSERT INTO taskid_counters AS c (project, prefix, n)"
            + " SELECT ?, p, 0 FROM unnest(?::text[]) AS p ORDER BY p"
            + " ON CONFLICT (project, prefix) DO UPDATE SET n = c.n RETURNING prefix, n";
    private static final String READ_COUNTERS =
            "SELECT prefix, n FROM taskid_counters WHERE project = ? AND prefix = ANY(?::text[])";
    private static final String READ_KEYS =
            "SELECT key, prefix, count, first, at FROM taskid_keys" + " WHERE project = ? AND key = ANY(?::text[])";
    private static final String WRITE_COUNTERS = "UPDATE taskid_counters AS c SET n = u.n"
            + " FROM unnest(?::text[], ?::bigint[]) AS u(prefix, n) WHERE c.project = ? AND c.prefix = u.prefix";
    private static final String WRITE_KEYS = "INSERT INTO taskid_keys (project, key, prefix, count, first, at)"
            + " SELECT ?, k, p, c, f, a::timestamptz FROM unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::text[])"
            + " AS u(k, p, c, f, a)";
    private static final String WRITE_AUDIT =
            "INSERT INTO taskid_audit (project, host, line) SELECT ?, ?, unnest(?::text[])";
    private static final String READ_AUDIT = "SELECT line FROM taskid_audit WHERE project = ? ORDER BY id";
    /** Rows fetched per round trip when reading the audit rows: memory stays bounded. */
    private static final int AUDIT_FETCH_ROWS = 1000;

    private static final String PRUNE_KEYS = "DELETE FROM taskid_keys WHERE project = ? AND at < ?::timestamptz";
    private static final long PRUNE_EVERY_NANOS = 600_000_000_000L;
    private static final long MAX_BACKOFF_MILLIS = 500;

    private final BackendConfig backend;
    private final Config config;
    private final Clock clock;
    private final PgUrl url;
    private final String host = hostName();
    private final Json json = new Json();
    private Connection connection;
    /** The counters this batch read, and which of them it locked: what commit compares against. */
    private Map<String, Long> loaded = Map.of();

    private Set<String> locked = Set.of();
    private Set<String> loadedKeys = Set.of();
    private long lastPrune = System.nanoTime() - PRUNE_EVERY_NANOS;

    PgBackend(BackendConfig backend, Config config, Clock clock, PgUrl url) {
        this.backend = backend;
        this.config = config;
        this.clock = clock;
        this.url = url;
        List<String> wrapped =
                config.prefixes().stream().filter(p -> config.wrap(p) > 0).toList();
        if (!wrapped.isEmpty()) {
            // Active numbers would need their own shared table; refusing is safer than sharing half the state.
            throw new TaskIdException(
                    ErrorCode.CONFIG_INVALID,
                    "wrapped prefixes " + wrapped
                            + " are not supported on the shared PostgreSQL backend (their active numbers live only in local"
                            + " state): remove their \"wrap\" option or use the local backend");
        }
    }

    @Override
    public String kind() {
        return "postgresql";
    }

    @Override
    public Ledger begin(List<Request> requests) {
        Touched touched = Touched.of(requests, config);
        long deadline = System.nanoTime() + backend.timeout().toNanos();
        long backoff = 10;
        while (true) {
            try {
                return read(session(), touched);
            } catch (SQLException e) {
                // Nothing was written: trying again (on a new connection) is safe.
                drop();
                if (System.nanoTime() + backoff * 1_000_000 >= deadline) {
                    throw unavailable("could not read the counters", e);
                }
                pause(backoff);
                backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
            }
        }
    }

    private Ledger read(Connection c, Touched touched) throws SQLException {
        Map<String, Long> counters = new TreeMap<>();
        Map<String, Long> lockedNow = new TreeMap<>();
        if (!touched.locked().isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(LOCK_COUNTERS)) {
                ps.setString(1, backend.project());
                ps.setArray(2, c.createArrayOf("text", touched.locked().toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        lockedNow.put(rs.getString(1), rs.getLong(2));
                    }
                }
            }
            counters.putAll(lockedNow);
        }
        if (!touched.read().isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(READ_COUNTERS)) {
                ps.setString(1, backend.project());
                ps.setArray(2, c.createArrayOf("text", touched.read().toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        counters.put(rs.getString(1), rs.getLong(2));
                    }
                }
            }
        }
        List<Ledger.KeyRecord> keys = new ArrayList<>();
        if (!touched.keys().isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(READ_KEYS)) {
                ps.setString(1, backend.project());
                ps.setArray(2, c.createArrayOf("text", touched.keys().toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        keys.add(new Ledger.KeyRecord(
                                rs.getString(1),
                                rs.getString(2),
                                rs.getLong(3),
                                rs.getLong(4),
                                rs.getObject(5, OffsetDateTime.class).toInstant()));
                    }
                }
            }
        }
        loaded = new TreeMap<>(counters);
        locked = lockedNow.keySet();
        loadedKeys = new HashSet<>();
        keys.forEach(k -> loadedKeys.add(k.key()));
        return new Ledger(counters, keys);
    }

    @Override
    public void commit(Ledger ledger, List<AuditEntry> entries) {
        Connection c = connection;
        boolean commitSent = false;
        try {
            if (c == null) {
                throw new SQLException("no open transaction", "08003");
            }
            writeCounters(c, ledger);
            writeKeys(c, ledger);
            writeAudit(c, entries);
            commitSent = true;
            c.commit();
            ledger.commit();
        } catch (SQLException e) {
            ledger.rollback();
            drop(); // an unknown outcome must never be followed by this connection's next statement
            if (!commitSent && "23505".equals(e.getSQLState())) {
                throw new TaskIdException(
                        ErrorCode.BACKEND_UNAVAILABLE,
                        "another host reserved with the same key at the"
                                + " same moment; nothing was reserved here: retry with the same key to get that reservation's IDs",
                        details(e),
                        e);
            }
            throw commitSent
                    ? new TaskIdException(
                            ErrorCode.BACKEND_UNAVAILABLE,
                            "lost the shared backend " + backend.describe()
                                    + " while committing (" + e.getMessage()
                                    + "): the batch may or may not have been saved. Its"
                                    + " numbers are never handed out again if it was; retry with the same key to get them",
                            details(e),
                            e)
                    : unavailable("could not save the batch (nothing was saved)", e);
        } finally {
            forget();
        }
    }

    private void writeCounters(Connection c, Ledger ledger) throws SQLException {
        List<String> prefixes = new ArrayList<>();
        List<Long> values = new ArrayList<>();
        for (Map.Entry<String, Long> e : ledger.counters().entrySet()) {
            Long before = loaded.get(e.getKey());
            if (before == null || before.longValue() != e.getValue()) {
                if (!locked.contains(e.getKey())) {
                    throw new IllegalStateException("the batch changed " + e.getKey() + ", which it had not locked");
                }
                prefixes.add(e.getKey());
                values.add(e.getValue());
            }
        }
        if (prefixes.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(WRITE_COUNTERS)) {
            ps.setArray(1, c.createArrayOf("text", prefixes.toArray()));
            ps.setArray(2, c.createArrayOf("bigint", values.toArray()));
            ps.setString(3, backend.project());
            ps.executeUpdate();
        }
    }

    private void writeKeys(Connection c, Ledger ledger) throws SQLException {
        List<Ledger.KeyRecord> fresh = ledger.keys().stream()
                .filter(k -> !loadedKeys.contains(k.key()))
                .toList();
        if (!fresh.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(WRITE_KEYS)) {
                ps.setString(1, backend.project());
                ps.setArray(
                        2,
                        c.createArrayOf(
                                "text",
                                fresh.stream().map(Ledger.KeyRecord::key).toArray()));
                ps.setArray(
                        3,
                        c.createArrayOf(
                                "text",
                                fresh.stream().map(Ledger.KeyRecord::prefix).toArray()));
                ps.setArray(
                        4,
                        c.createArrayOf(
                                "bigint",
                                fresh.stream().map(Ledger.KeyRecord::count).toArray()));
                ps.setArray(
                        5,
                        c.createArrayOf(
                                "bigint",
                                fresh.stream().map(Ledger.KeyRecord::first).toArray()));
                ps.setArray(
                        6,
                        c.createArrayOf(
                                "text",
                                fresh.stream().map(k -> k.at().toString()).toArray()));
                ps.executeUpdate();
            }
        }
        if (System.nanoTime() - lastPrune >= PRUNE_EVERY_NANOS) {
            // Keys are kept as long as the local mode keeps them: long enough for any retry.
            try (PreparedStatement ps = c.prepareStatement(PRUNE_KEYS)) {
                ps.setString(1, backend.project());
                ps.setString(2, clock.instant().minus(Ledger.KEY_TTL).toString());
                ps.executeUpdate();
            }
            lastPrune = System.nanoTime();
        }
    }

    private void writeAudit(Connection c, List<AuditEntry> entries) throws SQLException {
        if (entries.isEmpty()) {
            return;
        }
        Object[] lines = entries.stream()
                .map(e -> new String(e.toJson(json), StandardCharsets.UTF_8))
                .toArray();
        try (PreparedStatement ps = c.prepareStatement(WRITE_AUDIT)) {
            ps.setString(1, backend.project());
            ps.setString(2, host);
            ps.setArray(3, c.createArrayOf("text", lines));
            ps.executeUpdate();
        }
    }

    @Override
    public void end(Ledger ledger) {
        ledger.rollback();
        forget();
        if (connection != null) {
            try {
                connection.rollback();
            } catch (SQLException e) {
                drop();
            }
        }
    }

    private void forget() {
        loaded = Map.of();
        locked = Set.of();
        loadedKeys = Set.of();
    }

    @Override
    public String initSchema() {
        try (Connection c = connect()) {
            return Schema.init(c);
        } catch (SQLException e) {
            if ("TI001".equals(e.getSQLState())) {
                throw new TaskIdException(ErrorCode.CONFIG_INVALID, e.getMessage());
            }
            throw unavailable("could not create the schema", e);
        }
    }

    @Override
    public int readAudit(Predicate<String> lineFilter, Consumer<AuditEntry> sink) {
        int unreadable = 0;
        try (Connection c = connect();
                PreparedStatement ps = c.prepareStatement(READ_AUDIT)) {
            ps.setFetchSize(AUDIT_FETCH_ROWS); // a cursor (autocommit is off): rows come in slices
            ps.setString(1, backend.project());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String line = rs.getString(1);
                    if (!lineFilter.test(line)) {
                        continue;
                    }
                    AuditEntry entry = AuditEntry.parse(line, json);
                    if (entry == null) {
                        unreadable++;
                    } else {
                        sink.accept(entry);
                    }
                }
            }
            c.rollback();
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                throw new TaskIdException(
                        ErrorCode.CONFIG_INVALID,
                        "the backend " + backend.describe() + " has no taskid schema: run taskid backend init");
            }
            throw unavailable("could not read the audit rows", e);
        }
        return unreadable;
    }

    @Override
    public List<Check> diagnose() {
        List<Check> out = new ArrayList<>();
        long start = System.nanoTime();
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            out.add(new Check(
                    "backend reachable",
                    true,
                    backend.describe() + " in " + (System.nanoTime() - start) / 1_000_000 + " ms (project from "
                            + backend.projectFrom() + ")"));
            Integer version = null;
            try (ResultSet rs = s.executeQuery("SELECT version FROM taskid_schema WHERE id = 1")) {
                version = rs.next() ? rs.getInt(1) : null;
            } catch (SQLException e) {
                c.rollback();
            }
            out.add(new Check(
                    "backend schema",
                    version != null && version == Schema.VERSION,
                    version == null
                            ? "missing: run taskid backend init"
                            : "version " + version
                                    + (version == Schema.VERSION ? "" : ", this taskid needs " + Schema.VERSION)));
            Durability d = durability(s);
            out.add(
                    new Check(
                            "backend durability",
                            d.safe() || backend.acceptAsyncCommit(),
                            d.describe()
                                    + (d.safe()
                                            ? ""
                                            : backend.acceptAsyncCommit()
                                                    ? " (accepted by backend.acceptAsyncCommit)"
                                                    : ": a server crash may lose acknowledged IDs; fix the server or set backend.acceptAsyncCommit")));
            long[] trips = new long[5];
            for (int i = 0; i < trips.length; i++) {
                long t = System.nanoTime();
                s.execute("SELECT 1");
                trips[i] = System.nanoTime() - t;
            }
            java.util.Arrays.sort(trips);
            out.add(new Check(
                    "backend round trip",
                    true,
                    String.format(java.util.Locale.ROOT, "%.2f ms (median of 5)", trips[2] / 1e6)));
            c.rollback();
        } catch (SQLException e) {
            out.add(new Check("backend reachable", false, backend.describe() + ": " + e.getMessage()));
        }
        return out;
    }

    private record Durability(String synchronousCommit, String fsync) {
        boolean safe() {
            return !synchronousCommit.equals("off") && !fsync.equals("off");
        }

        String describe() {
            return "synchronous_commit=" + synchronousCommit + ", fsync=" + fsync;
        }
    }

    private static Durability durability(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT current_setting('synchronous_commit'), current_setting('fsync')")) {
            rs.next();
            return new Durability(rs.getString(1), rs.getString(2));
        }
    }

    /** The open connection, or a new one checked for schema and durability. */
    private Connection session() throws SQLException {
        if (connection != null) {
            return connection;
        }
        Connection c = connect();
        try (Statement s = c.createStatement()) {
            Durability d = durability(s);
            if (!d.safe() && !backend.acceptAsyncCommit()) {
                c.close();
                throw new TaskIdException(
                        ErrorCode.CONFIG_INVALID,
                        "the backend " + backend.describe() + " runs with "
                                + d.describe()
                                + ": a server crash could lose IDs already handed out. Turn it on, or accept the"
                                + " risk with \"backend\": {\"acceptAsyncCommit\": true}");
            }
            int version;
            try (ResultSet rs = s.executeQuery("SELECT version FROM taskid_schema WHERE id = 1")) {
                version = rs.next() ? rs.getInt(1) : 0;
            } catch (SQLException e) {
                if (!"42P01".equals(e.getSQLState())) {
                    throw e;
                }
                version = 0;
            }
            c.rollback();
            if (version != Schema.VERSION) {
                c.close();
                throw new TaskIdException(
                        ErrorCode.CONFIG_INVALID,
                        "the backend " + backend.describe()
                                + (version == 0
                                        ? " has no taskid schema: run taskid backend init"
                                        : " has schema version " + version + "; this taskid needs " + Schema.VERSION
                                                + (version < Schema.VERSION
                                                        ? ": run taskid backend init"
                                                        : ": upgrade taskid")));
            }
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
        connection = c;
        return c;
    }

    private Connection connect() throws SQLException {
        // The driver directly, not DriverManager: it may come from a class loader DriverManager does not trust.
        Connection c = new org.postgresql.Driver().connect(url.jdbcUrl(), url.properties());
        if (c == null) {
            throw new SQLException("not a PostgreSQL URL: " + BackendConfig.redact(url.jdbcUrl()), "08001");
        }
        c.setAutoCommit(false);
        return c;
    }

    private void drop() {
        if (connection != null) {
            closeQuietly(connection);
            connection = null;
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            // already gone
        }
    }

    /** The backoff between two connection attempts; an interrupt ends the wait as BACKEND_UNAVAILABLE. */
    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TaskIdException(
                    ErrorCode.BACKEND_UNAVAILABLE, "interrupted while waiting for the shared backend");
        }
    }

    private TaskIdException unavailable(String what, SQLException e) {
        return new TaskIdException(
                ErrorCode.BACKEND_UNAVAILABLE,
                what + ": the shared backend " + backend.describe()
                        + " did not answer within " + backend.timeout().toMillis() + " ms (" + e.getMessage()
                        + "). Nothing was"
                        + " handed out; retry in a few seconds. taskid never answers from local files while a backend is configured.",
                details(e),
                e);
    }

    private Map<String, Object> details(SQLException e) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("backend", BackendConfig.redact(backend.url()));
        d.put("project", backend.project());
        d.put("sqlState", String.valueOf(e.getSQLState()));
        d.put("retryAfterMs", 1000);
        return d;
    }

    @Override
    public void close() {
        drop();
    }

    private static String hostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (java.io.IOException | RuntimeException e) {
            String h = System.getenv("HOSTNAME");
            return h == null ? "unknown" : h;
        }
    }

    /** The prefixes a batch may change (locked), only reads (read), and its idempotency keys. */
    record Touched(Set<String> locked, Set<String> read, Set<String> keys) {
        static Touched of(List<Request> requests, Config config) {
            Set<String> locked = new TreeSet<>();
            Set<String> read = new TreeSet<>();
            Set<String> keys = new TreeSet<>();
            for (Request r : requests) {
                if (r instanceof Request.Reserve x) {
                    locked.add(x.prefix());
                    if (x.key() != null && !x.key().isEmpty()) {
                        keys.add(x.key());
                    }
                } else if (r instanceof Request.SetCounter x) {
                    locked.add(x.prefix());
                } else if (r instanceof Request.Init x) {
                    // IDs found in its text (older clients) may raise any prefix
                    locked.addAll(
                            x.text() != null ? config.prefixes() : x.floors().keySet());
                } else if (r instanceof Request.Archive x) {
                    locked.add(x.prefix());
                } else if (r instanceof Request.Peek x) {
                    if (x.prefix() == null) {
                        read.addAll(config.prefixes());
                    } else {
                        read.add(x.prefix());
                    }
                } else if (r instanceof Request.Validate x) {
                    for (String id : x.ids()) {
                        TaskId.parse(id).ifPresent(t -> read.add(t.prefix()));
                    }
                }
            }
            locked.removeIf(p -> !config.isValidPrefix(p)); // the allocator refuses those; no rows for them
            read.removeIf(p -> !config.isValidPrefix(p) || locked.contains(p));
            return new Touched(locked, read, keys);
        }
    }
}
