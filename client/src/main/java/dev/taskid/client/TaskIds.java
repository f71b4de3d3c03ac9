package dev.taskid.client;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.JsonLines;
import dev.taskid.protocol.ProtocolException;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.Config;
import dev.taskid.state.StateDir;
import dev.taskid.state.StateLock;
import dev.taskid.state.StateStore;
import dev.taskid.state.Users;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The client library: daemon first, file-lock fallback second, same answers either way.
 *
 * <pre>{@code
 * try (TaskIds ids = TaskIds.open(StateDir.locate(Path.of(""), null), TaskIds.Options.DEFAULT)) {
 *     Response.Reserved r = ids.reserve("SEC", 3, "review findings");
 * }
 * }</pre>
 *
 * <p>Not thread-safe: use one instance per thread (the daemon serializes them all).
 */
public final class TaskIds implements AutoCloseable {
    /** IDs per validate request: the protocol's limit. */
    private static final int VALIDATE_CHUNK = 10_000;
    private static final Duration DAEMON_RECHECK = Duration.ofMillis(50);

    /**
     * {@code fallback}: use the file lock when no daemon answers; {@code daemonTimeout}: how
     * long to wait for one daemon answer; {@code lockTimeout}: overrides the config's.
     */
    public record Options(boolean fallback, Duration daemonTimeout, Optional<Duration> lockTimeout,
                          Map<String, String> env) {
        public static final Options DEFAULT = new Options(true, Duration.ofSeconds(30), Optional.empty(), System.getenv());

        public Options withFallback(boolean enabled) {
            return new Options(enabled, daemonTimeout, lockTimeout, env);
        }

        public Options withLockTimeout(Duration timeout) {
            return new Options(fallback, daemonTimeout, Optional.of(timeout), env);
        }
    }

    private final StateDir dir;
    private final Options options;
    private final JsonLines json = new JsonLines();
    private final Clock clock = Clock.systemUTC();
    private final Path socket;
    private DaemonConnection connection;
    private LockedState local;

    private TaskIds(StateDir dir, Options options) {
        this.dir = dir;
        this.options = options;
        this.socket = dir.socket(options.env(), Users.currentUid());
    }

    public static TaskIds open(StateDir dir, Options options) {
        return new TaskIds(dir, options);
    }

    public StateDir stateDir() {
        return dir;
    }

    /** Where the daemon for this state directory listens. */
    public Path socket() {
        return socket;
    }

    /** The daemon's hello if one answers now. */
    public Optional<Response.Hello> daemon() {
        return Optional.ofNullable(connect()).map(DaemonConnection::hello);
    }

    /** Reserves {@code count} IDs; throws {@link TaskIdException} with the failure's code. */
    public Response.Reserved reserve(String prefix, long count, String purpose) {
        Response r = call(new Request.Reserve(null, prefix, count, purpose, null, null)).response();
        if (r instanceof Response.Failure f) {
            throw new TaskIdException(f.code(), f.message(), f.details(), null);
        }
        return (Response.Reserved) r;
    }

    /**
     * Sends one request to the daemon, or applies it under the state lock when no daemon
     * answers. A reply is only returned once its effect is durable.
     */
    public Reply call(Request request) {
        for (int attempt = 0; ; attempt++) {
            DaemonConnection c = connect();
            if (c == null) {
                break;
            }
            try {
                return new Reply(c.call(request), Mode.DAEMON, 0, Optional.empty());
            } catch (IOException e) {
                // The daemon went away mid-call. Sending again is safe: an unanswered
                // reservation at worst leaves a gap, never a duplicate.
                disconnect();
                if (attempt > 0) {
                    throw new TaskIdException(ErrorCode.DAEMON_UNAVAILABLE,
                            "lost the daemon at " + socket + ": " + e.getMessage(), Map.of(), e);
                }
            } catch (ProtocolException e) {
                disconnect();
                throw new TaskIdException(ErrorCode.PROTOCOL_MISMATCH,
                        "unreadable answer from the daemon at " + socket + ": " + e.getMessage(), Map.of(), e);
            }
        }
        if (!options.fallback()) {
            throw new TaskIdException(ErrorCode.DAEMON_UNAVAILABLE,
                    "no daemon is listening at " + socket + " (start one with: taskid daemon)");
        }
        return fallback(request);
    }

    private Reply fallback(Request request) {
        LockedState state = local();
        state.warmUp(request);
        Duration timeout = options.lockTimeout().orElse(state.config().lockTimeout());
        // Waits in the kernel's queue; a daemon holds the lock for its life, so while waiting,
        // look for one coming up and go to it.
        Optional<StateLock.Held> held = state.lock().acquire(timeout, "fallback", DAEMON_RECHECK,
                () -> connect() != null);
        if (held.isEmpty()) {
            return call(request);
        }
        try (StateLock.Held h = held.get()) {
            return state.apply(request, h.waitedMillis());
        }
    }

    /**
     * Whether each of {@code ids} was issued, however many (sent in chunks the protocol
     * accepts); a failure (e.g. STATE_CORRUPT) is thrown as TaskIdException.
     */
    public List<Response.Validation.Check> validateAll(List<String> ids) {
        List<Response.Validation.Check> out = new java.util.ArrayList<>(ids.size());
        for (int from = 0; from < ids.size(); from += VALIDATE_CHUNK) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + VALIDATE_CHUNK));
            Response r = call(new Request.Validate(null, chunk)).response();
            if (r instanceof Response.Failure f) {
                throw new TaskIdException(f.code(), f.message(), f.details(), null);
            }
            out.addAll(((Response.Validation) r).results());
        }
        return out;
    }

    /**
     * Runs {@code work} holding the state lock, as the fallback applies a request: for
     * maintenance that must not run beside a daemon or another writer ({@code recover}). A
     * daemon holds the lock for its whole life, so while one runs this ends in LOCK_TIMEOUT
     * naming it.
     */
    public <T> T withStateLocked(String holderNote, java.util.function.Function<StateStore, T> work) {
        LockedState state = local();
        Duration timeout = options.lockTimeout().orElse(state.config().lockTimeout());
        try (StateLock.Held held = state.lock().acquire(timeout, holderNote)) {
            return work.apply(state.store());
        }
    }

    /**
     * Who holds the state lock right now ("pid 42 (daemon) since ..."), or empty when it is
     * free. Asks the kernel by trying it once (released at once), never by reading ages.
     */
    public Optional<String> lockHolder() {
        StateLock lock = local().lock();
        Optional<StateLock.Held> held = lock.tryAcquire("doctor");
        if (held.isPresent()) {
            held.get().close();
            return Optional.empty();
        }
        String holder = lock.holder();
        return Optional.of(holder.isEmpty() ? "another process" : holder);
    }

    private DaemonConnection connect() {
        if (connection == null) {
            connection = DaemonConnection.tryConnect(socket, json, options.daemonTimeout()).orElse(null);
        }
        return connection;
    }

    private void disconnect() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    private LockedState local() {
        if (local == null) {
            Config config = Config.load(dir.config(), json);
            local = new LockedState(StateStore.open(dir, json, clock, config.audit()), config, clock);
        }
        return local;
    }

    @Override
    public void close() {
        disconnect();
        if (local != null) {
            local.close();
        }
    }
}
