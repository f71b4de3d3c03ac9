package dev.taskid.client;

import dev.taskid.backend.BackendConfig;
import dev.taskid.backend.Backends;
import dev.taskid.backend.RemoteBackend;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Protocol;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

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
    /** A validate request's line without its IDs: {"op":"validate","ids":[]}, and room to spare. */
    private static final int VALIDATE_OVERHEAD_BYTES = 64;

    private static final Duration DAEMON_RECHECK = Duration.ofMillis(50);

    /**
     * {@code fallback}: use the file lock when no daemon answers; {@code daemonTimeout}: how
     * long to wait for one daemon answer; {@code lockTimeout}: overrides the config's;
     * {@code connectTimeout}: how long connecting and hello may take together before the
     * daemon counts as absent (env {@code TASKID_CONNECT_TIMEOUT_MS}, default 2000): short, so
     * that a socket nobody serves costs little before the fallback.
     */
    public record Options(
            boolean fallback,
            Duration daemonTimeout,
            Optional<Duration> lockTimeout,
            Map<String, String> env,
            Duration connectTimeout) {
        static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
        public static final Options DEFAULT =
                new Options(true, Duration.ofSeconds(30), Optional.empty(), System.getenv());

        public Options {
            if (connectTimeout.isNegative() || connectTimeout.isZero()) {
                throw new IllegalArgumentException("connectTimeout must be positive");
            }
        }

        /** Options with the connect timeout from {@code env}. */
        public Options(
                boolean fallback, Duration daemonTimeout, Optional<Duration> lockTimeout, Map<String, String> env) {
            this(fallback, daemonTimeout, lockTimeout, env, connectTimeout(env));
        }

        public Options withFallback(boolean enabled) {
            return new Options(enabled, daemonTimeout, lockTimeout, env, connectTimeout);
        }

        public Options withLockTimeout(Duration timeout) {
            return new Options(fallback, daemonTimeout, Optional.of(timeout), env, connectTimeout);
        }

        private static Duration connectTimeout(Map<String, String> env) {
            String ms = env.get("TASKID_CONNECT_TIMEOUT_MS");
            if (ms == null || ms.isBlank()) {
                return DEFAULT_CONNECT_TIMEOUT;
            }
            try {
                long value = Long.parseLong(ms.trim());
                if (value > 0 && value <= 600_000) {
                    return Duration.ofMillis(value);
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new TaskIdException(
                    ErrorCode.CONFIG_INVALID,
                    "TASKID_CONNECT_TIMEOUT_MS must be a number of milliseconds from 1 to 600000, got \"" + ms + "\"");
        }
    }

    private final StateDir dir;
    private final Options options;
    private final Json json = new Json();
    private final Clock clock = Clock.systemUTC();
    private final Path socket;
    private final DaemonTrust trust;
    private DaemonConnection connection;
    private LockedState local;
    /** Empty: the local backend; null: not looked up yet. */
    private Optional<RemoteState> remote;

    private TaskIds(StateDir dir, Options options) {
        this.dir = dir;
        this.options = options;
        this.socket = dir.socket(options.env(), Users.currentUid());
        this.trust = DaemonTrust.of(dir, socket);
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

    /**
     * The process of the daemon that said {@code hello}, checked before anyone signals it: it
     * runs as a user this client trusts and is a taskid daemon (FORBIDDEN otherwise).
     */
    public ProcessHandle daemonProcess(Response.Hello hello) {
        return trust.daemonProcess(hello.pid());
    }

    /** Reserves {@code count} IDs; throws {@link TaskIdException} with the failure's code. */
    public Response.Reserved reserve(String prefix, long count, String purpose) {
        Response r = call(new Request.Reserve(null, prefix, count, purpose, null, null))
                .response();
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
                    throw new TaskIdException(
                            ErrorCode.DAEMON_UNAVAILABLE,
                            "lost the daemon at " + socket + ": " + e.getMessage(),
                            Map.of(),
                            e);
                }
            } catch (ProtocolException e) {
                disconnect();
                throw new TaskIdException(
                        ErrorCode.PROTOCOL_MISMATCH,
                        "unreadable answer from the daemon at " + socket + ": " + e.getMessage(),
                        Map.of(),
                        e);
            }
        }
        if (!options.fallback()) {
            throw new TaskIdException(
                    ErrorCode.DAEMON_UNAVAILABLE,
                    "no daemon is listening at " + socket + " (start one with: taskid daemon)" + withoutFallback());
        }
        Optional<RemoteState> shared = remote();
        if (shared.isPresent()) {
            return shared.get().apply(request); // never the local files: other hosts share these counters
        }
        return fallback(request);
    }

    /** What --no-fallback gave up, when a shared backend is configured: the direct transaction, not a file lock. */
    private String withoutFallback() {
        try {
            return backend()
                    .map(b -> "; --no-fallback also keeps this call from going to the shared backend " + b.describe()
                            + " directly (without it, it would; never to local files)")
                    .orElse("");
        } catch (TaskIdException e) {
            return ""; // an invalid config is reported by the calls that use it
        }
    }

    private Reply fallback(Request request) {
        LockedState state = local();
        state.warmUp(request);
        Duration timeout = options.lockTimeout().orElse(state.config().lockTimeout());
        // Waits in the kernel's queue; a daemon holds the lock for its life, so while waiting,
        // look for one coming up and go to it.
        Optional<StateLock.Held> held =
                state.lock().acquire(timeout, "fallback", DAEMON_RECHECK, () -> connect() != null);
        if (held.isEmpty()) {
            return call(request);
        }
        try (StateLock.Held h = held.get()) {
            return state.apply(request, h.waitedMillis());
        }
    }

    /**
     * Whether each of {@code ids} was issued, however many (sent in requests that fit the
     * protocol's line); a failure (e.g. STATE_CORRUPT) is thrown as TaskIdException.
     */
    public List<Response.Validation.Check> validateAll(List<String> ids) {
        Response r = validateAll(ids, this::call).response();
        if (r instanceof Response.Failure f) {
            throw new TaskIdException(f.code(), f.message(), f.details(), null);
        }
        return ((Response.Validation) r).results();
    }

    /**
     * Validates {@code ids} through {@code call} in as many requests as it takes: at most
     * 10,000 IDs and {@link Protocol#MAX_LINE_BYTES} encoded per request (a daemon closes the
     * connection on a longer line). One answer for all, or the first failure. A string too long
     * to be sent at all is not a task ID and is answered so here.
     */
    public static Reply validateAll(List<String> ids, Function<Request, Reply> call) {
        List<Response.Validation.Check> out = new ArrayList<>(ids.size());
        Reply last = null;
        long waited = 0;
        int from = 0;
        while (from < ids.size()) {
            int to = from;
            long bytes = VALIDATE_OVERHEAD_BYTES;
            while (to < ids.size() && to - from < VALIDATE_CHUNK) {
                long cost = encodedBytes(ids.get(to)) + 1;
                if (bytes + cost > Protocol.MAX_LINE_BYTES) {
                    break;
                }
                bytes += cost;
                to++;
            }
            if (to == from) {
                out.add(new Response.Validation.Check(
                        ids.get(from),
                        false,
                        "not a task ID (expected PREFIX-NUMBER, e.g. SEC-20; this is " + encodedBytes(ids.get(from))
                                + " bytes long)"));
                from++;
                continue;
            }
            last = call.apply(new Request.Validate(null, ids.subList(from, to)));
            if (last.response() instanceof Response.Failure) {
                return last;
            }
            waited += last.lockWaitMillis();
            out.addAll(((Response.Validation) last.response()).results());
            from = to;
        }
        return new Reply(
                new Response.Validation(null, out),
                last == null ? Mode.FALLBACK : last.mode(),
                waited,
                last == null ? Optional.empty() : last.notice());
    }

    /** A string's size as a JSON string in the request: quotes, escapes, UTF-8. */
    private static long encodedBytes(String s) {
        long n = 2;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            n += c < 0x20
                    ? 6
                    : c == '"' || c == '\\' ? 2 : c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
        }
        return n;
    }

    /**
     * Runs {@code work} holding the state lock, as the fallback applies a request: for
     * maintenance that must not run beside a daemon or another writer ({@code recover}). A
     * daemon holds the lock for its whole life, so while one runs this ends in LOCK_TIMEOUT
     * naming it.
     */
    public <T> T withStateLocked(String holderNote, java.util.function.Function<StateStore, T> work) {
        backend().ifPresent(b -> {
            throw new TaskIdException(
                    ErrorCode.CONFIG_INVALID,
                    "this repository's counters live in the shared backend " + b.describe() + ", not in " + dir
                            + ": there is no local state to " + holderNote);
        });
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
            connection = DaemonConnection.tryConnect(socket, trust, options.connectTimeout(), options.daemonTimeout())
                    .orElse(null);
        }
        return connection;
    }

    private void disconnect() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    /** The configured shared backend, if any (TASKID_BACKEND or config.json "backend"). */
    public Optional<BackendConfig> backend() {
        return BackendConfig.load(dir, options.env(), json);
    }

    /** The shared backend itself, for {@code taskid backend} and doctor; empty when none is configured. */
    public Optional<RemoteBackend> remoteBackend() {
        return remote().map(RemoteState::backend);
    }

    private Optional<RemoteState> remote() {
        if (remote == null) {
            Optional<BackendConfig> shared = backend();
            if (shared.isEmpty()) {
                remote = Optional.empty();
            } else {
                Config config = Config.load(dir.config(), json);
                remote = Optional.of(new RemoteState(
                        Backends.open(shared.get(), config, clock, "taskid-cli"),
                        config,
                        clock,
                        shared.get().describe()));
            }
        }
        return remote;
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
        if (remote != null) {
            remote.ifPresent(RemoteState::close);
        }
    }
}
