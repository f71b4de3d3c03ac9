package dev.taskid.daemon;

import dev.taskid.allocator.Allocator;
import dev.taskid.backend.BackendConfig;
import dev.taskid.backend.Backends;
import dev.taskid.backend.LocalBackend;
import dev.taskid.backend.RemoteBackend;
import dev.taskid.backend.StateBackend;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.protocol.Version;
import dev.taskid.server.PeerCheck;
import dev.taskid.server.SocketServer;
import dev.taskid.server.Transport;
import dev.taskid.state.AuditEntry;
import dev.taskid.state.AuditLog;
import dev.taskid.state.Config;
import dev.taskid.state.SocketDir;
import dev.taskid.state.StateDir;
import dev.taskid.state.StateLock;
import dev.taskid.state.StateStore;
import dev.taskid.state.Users;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's life: take the state lock (and keep it), load the counters, and only then
 * bind the socket; at the end stop accepting, answer what is queued, remove the socket and
 * release the lock. The order matters: binding unlinks whatever is at the socket path, so
 * only the lock holder may bind, or a second daemon would steal a live one's socket.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);
    private static final Path URANDOM = Path.of("/dev/urandom");
    /**
     * {@code lockTimeout} overrides the config's; {@code stopWait} bounds how long a stop
     * waits for the state thread before halting; {@code watchEvery}: how often the daemon
     * looks whether its state directory is still the one it locked.
     */
    public record Options(Optional<Duration> lockTimeout, Duration stopWait, Duration watchEvery) {}

    /**
     * How the process ends when the daemon cannot go on: {@code exit} starts an orderly exit
     * with a status (queued work answered, then the shutdown); {@code halt} ends the process
     * at once without releasing anything (the kernel drops the lock when it is gone).
     */
    public record Ending(IntConsumer exit, IntConsumer halt) {}

    private final StateStore store;
    private final StateLock.Held lock;
    private final StateBackend backend;
    private final StateLoop loop;
    private final SocketServer server;
    private final Path socket;
    private final boolean ownsSocket;
    private final Optional<SystemdNotifier> systemd;
    private final Failure failure;
    private final ScheduledExecutorService watch;
    private final Duration stopWait;
    private boolean closed;

    private Daemon(
            StateStore store,
            StateLock.Held lock,
            StateBackend backend,
            StateLoop loop,
            SocketServer server,
            Path socket,
            boolean ownsSocket,
            Optional<SystemdNotifier> systemd,
            Failure failure,
            ScheduledExecutorService watch,
            Duration stopWait) {
        this.store = store;
        this.lock = lock;
        this.backend = backend;
        this.loop = loop;
        this.server = server;
        this.socket = socket;
        this.ownsSocket = ownsSocket;
        this.systemd = systemd;
        this.failure = failure;
        this.watch = watch;
        this.stopWait = stopWait;
    }

    /** The first fatal condition's exit status; the orderly exit it started uses it. */
    private static final class Failure {
        private final AtomicInteger status = new AtomicInteger();
        private final Ending ending;

        Failure(Ending ending) {
            this.ending = ending;
        }

        void fail(ErrorCode code, String why) {
            if (status.compareAndSet(0, code.exitStatus())) {
                log.error("{}: {}; answering what is queued, then exiting", code, why);
                ending.exit().accept(code.exitStatus());
            }
        }
    }

    /** 0 after a requested stop, else the status of what made the daemon stop by itself. */
    public int exitStatus() {
        return failure.status.get();
    }

    /**
     * Starts a daemon for {@code dir}.
     *
     * @throws TaskIdException LOCK_TIMEOUT when another daemon or a fallback writer holds the
     *                         lock for longer than the lock timeout; STATE_CORRUPT, SYSTEM_ERROR
     */
    /** Starts a daemon for {@code dir}; {@code ending} says how the process ends when it cannot go on. */
    public static Daemon start(
            StateDir dir, SocketServer.Settings settings, Map<String, String> env, Options options, Ending ending)
            throws InterruptedException {
        Json json = new Json();
        Clock clock = Clock.systemUTC();
        Config config = Config.load(dir.config(), json);
        // The socket server needs nothing from the state: another thread sets it up while this
        // one takes the lock and loads the state. It serves only once both are done. (A start
        // that fails ends the process: a server made meanwhile was never bound.)
        CompletableFuture<SocketServer> prepared = prepare(settings, config);
        StateStore store = StateStore.open(dir, json, clock, config.audit());
        StateLock.Held lock = null;
        ScheduledExecutorService watch = null;
        StateBackend backend = null;
        Failure failure = new Failure(ending);
        try {
            lock = acquire(store, dir, options.lockTimeout().orElse(config.lockTimeout()));
            store.onStateMoved(() -> failure.fail(
                    ErrorCode.STATE_MOVED,
                    "the state directory " + dir
                            + " was removed or replaced: this daemon's memory matches no file there any more"));
            backend = backend(dir, env, json, config, clock, store);
            int uid = Users.currentUid();
            Path socket = dir.socket(env, uid);
            long pid = ProcessHandle.current().pid();
            OptionalInt inherited = SystemdNotifier.listenFd(env, pid);
            if (inherited.isEmpty()) {
                prepareSocketPath(dir, socket);
            }
            String epoch = newEpoch();
            StateLoop loop = new StateLoop(
                    backend, new Allocator(config, clock), clock, dir.dir().toString(), epoch);
            SocketServer server = await(prepared);
            Transport transport = server.transport();
            loop.start(server.stateLoop(), server::connections);
            if (inherited.isPresent()) {
                // systemd made, owns and removes the socket; we serve on the descriptor it passed.
                server.adopt(inherited.getAsInt(), loop);
            } else {
                server.bind(socket, loop);
                Files.setPosixFilePermissions(
                        socket,
                        PosixFilePermissions.fromString(config.allowedUids().isEmpty() ? "rw-------" : "rw-rw-rw-"));
            }
            log.info(
                    "taskid daemon {} serving {} on {} (pid {}, {} transport, {}, epoch {})",
                    Version.CURRENT,
                    dir,
                    socket,
                    pid,
                    transport.name(),
                    inherited.isPresent() ? "socket from systemd" : "bound",
                    epoch);
            // Ready only now: the lock is held, the state loaded and the socket served.
            Optional<SystemdNotifier> systemd = SystemdNotifier.connect(env, server.eventLoops());
            systemd.ifPresent(n -> {
                n.send("READY=1\nSTATUS=serving " + dir + "\nMAINPID=" + pid);
                n.startWatchdog(env, pid, () -> loop.healthy(TimeUnit.SECONDS.toNanos(10)));
            });
            // Also without requests: a daemon whose state directory is gone must not linger
            // (daemon status would call it not running while it holds memory nobody can see).
            watch = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "taskid-state-watch");
                t.setDaemon(true);
                return t;
            });
            watch.scheduleWithFixedDelay(
                    () -> {
                        try {
                            store.verifyInPlace();
                        } catch (RuntimeException e) {
                            // STATE_MOVED has started the exit; anything else is retried next time
                        }
                    },
                    options.watchEvery().toMillis(),
                    options.watchEvery().toMillis(),
                    TimeUnit.MILLISECONDS);
            return new Daemon(
                    store,
                    lock,
                    backend,
                    loop,
                    server,
                    socket,
                    inherited.isEmpty(),
                    systemd,
                    failure,
                    watch,
                    options.stopWait());
        } catch (IOException e) {
            if (watch != null) {
                watch.shutdownNow();
            }
            closeQuietly(backend);
            release(store, lock);
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot set up the socket: " + describe(e), Map.of(), e);
        } catch (RuntimeException | InterruptedException e) {
            if (watch != null) {
                watch.shutdownNow();
            }
            closeQuietly(backend);
            release(store, lock);
            throw e;
        }
    }

    /**
     * Sets up the socket server on a thread of its own: the transport (Netty's native library
     * for epoll), the event loop, the handlers and Netty's reflection on them ({@link
     * SocketServer#warmUp}), ~0.1 s of a start that would otherwise come before or after the
     * state load on one thread. The server serves nothing until it is bound.
     */
    private static CompletableFuture<SocketServer> prepare(SocketServer.Settings settings, Config config) {
        CompletableFuture<SocketServer> prepared = new CompletableFuture<>();
        Thread t = new Thread(
                () -> {
                    try {
                        Transport transport = Transport.select(System.getProperty("taskid.transport"));
                        if (!transport.tellsPeers()) {
                            throw new TaskIdException(
                                    ErrorCode.SYSTEM_ERROR,
                                    "the " + transport.name()
                                            + " transport cannot tell who connects (no SO_PEERCRED), so this daemon would serve nobody");
                        }
                        SocketServer server = new SocketServer(
                                transport,
                                settings,
                                new PeerCheck(
                                        transport, Users.currentUid(), Users.currentUser(), config.allowedUids()));
                        server.warmUp();
                        prepared.complete(server);
                    } catch (Throwable e) { // handed to the starting thread, which ends the start
                        prepared.completeExceptionally(e);
                    }
                },
                "taskid-prepare");
        t.setDaemon(true);
        t.start();
        return prepared;
    }

    /** The prepared server, or what its preparation threw. */
    private static SocketServer await(CompletableFuture<SocketServer> prepared) throws InterruptedException {
        try {
            return prepared.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error r) {
                throw r;
            }
            throw new IllegalStateException(cause);
        }
    }

    /**
     * A random (version 4) UUID that tells this start from any other. From 16 bytes of
     * /dev/urandom, as the JDK's SecureRandom would read them, without its set-up (security
     * providers and their configuration: ~25 ms of the start); where there is no such file,
     * UUID.randomUUID().
     */
    static String newEpoch() {
        byte[] b;
        try (InputStream in = Files.newInputStream(URANDOM)) {
            b = in.readNBytes(16);
        } catch (IOException e) {
            return UUID.randomUUID().toString();
        }
        if (b.length < 16) {
            return UUID.randomUUID().toString();
        }
        b[6] = (byte) ((b[6] & 0x0f) | 0x40); // version 4
        b[8] = (byte) ((b[8] & 0x3f) | 0x80); // IETF variant
        ByteBuffer bytes = ByteBuffer.wrap(b);
        return new UUID(bytes.getLong(), bytes.getLong()).toString();
    }

    /**
     * Takes the state lock. When a daemon already serves this state directory, refuses at once
     * naming it, rather than waiting out the lock timeout for a lock it holds for its life.
     */
    private static StateLock.Held acquire(StateStore store, StateDir dir, Duration timeout) {
        Optional<StateLock.Held> free = store.lock().tryAcquire("daemon");
        if (free.isPresent()) {
            return free.get();
        }
        OptionalLong running = store.lock().holderAs("daemon");
        if (running.isPresent()) {
            throw new TaskIdException(
                    ErrorCode.LOCK_TIMEOUT,
                    "a taskid daemon (pid " + running.getAsLong() + ") already serves " + dir
                            + ": use it, or stop it first (taskid daemon stop)",
                    Map.of("holderPid", running.getAsLong()),
                    null);
        }
        return store.lock().acquire(timeout, "daemon"); // a fallback writer: it is done soon
    }

    /**
     * Where the counters live: the configured shared backend (checked now: reachable, schema,
     * durable commits; a daemon that cannot serve does not start), else this state directory,
     * loaded into memory. The state lock is held either way: it owns the socket.
     */
    private static StateBackend backend(
            StateDir dir, Map<String, String> env, Json json, Config config, Clock clock, StateStore store) {
        Optional<BackendConfig> shared = BackendConfig.load(dir, env, json);
        if (shared.isPresent()) {
            RemoteBackend remote = Backends.open(shared.get(), config, clock, "taskid-daemon");
            try {
                remote.end(remote.begin(java.util.List.of()));
            } catch (RuntimeException e) {
                remote.close();
                throw e;
            }
            log.info("counters live in {}", shared.get().describe());
            return remote;
        }
        StateStore.Loaded loaded = store.load(config, AuditEntry.Requester.self(AuditLog.DAEMON, -1));
        loaded.notice().ifPresent(log::info);
        try {
            store.file().backup(loaded.ledger()); // the known-good copy `taskid recover` reads
        } catch (TaskIdException e) {
            log.warn("no backup made at start: {}", e.getMessage());
        }
        return new LocalBackend(loaded.ledger(), store);
    }

    private static void closeQuietly(StateBackend backend) {
        if (backend != null) {
            backend.close();
        }
    }

    /**
     * Makes the socket's directory (0700) or checks the one there (ours, 0700 for a runtime
     * directory, never a symlink: whoever controls it controls what answers at the socket), and
     * removes a socket left by a dead daemon: we hold the state lock, so no live daemon owns
     * it. Anything else at the socket path is left alone and named.
     */
    private static void prepareSocketPath(StateDir dir, Path socket) throws IOException {
        Path parent = socket.getParent();
        boolean runtimeDir = SocketDir.inRuntimeDir(dir, socket);
        Set<UserPrincipal> owners = new HashSet<>(Set.of(Users.currentUser()));
        if (!runtimeDir) {
            owners.add(Files.getOwner(parent, LinkOption.NOFOLLOW_LINKS)); // the state dir: loaded already
        }
        if (!SocketDir.check(parent, runtimeDir, owners)) {
            try {
                Files.createDirectories(
                        parent, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException raced) {
                // made meanwhile: checked below like any other
            }
            SocketDir.check(parent, runtimeDir, owners);
        }
        BasicFileAttributes at;
        try {
            at = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if (!at.isOther() || at.isSymbolicLink()) {
            String what = at.isDirectory() ? "a directory" : at.isSymbolicLink() ? "a symbolic link" : "a regular file";
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "cannot set up the socket: " + socket + " is " + what
                            + ", not a socket left by a daemon, so taskid does not remove it; move it away and start again",
                    Map.of("socket", socket.toString()),
                    null);
        }
        Files.delete(socket);
        log.info("replaced the stale socket {} left by a daemon that did not shut down cleanly", socket);
    }

    /** An I/O error with its kind: many say only the path ("AccessDeniedException: /x" is clearer). */
    private static String describe(IOException e) {
        String kind = e.getClass()
                .getSimpleName()
                .replace("Exception", "")
                .replaceAll("([a-z])([A-Z])", "$1 $2")
                .toLowerCase(java.util.Locale.ROOT);
        return e.getMessage() == null ? kind : e.getMessage() + " (" + kind + ")";
    }

    private static void release(StateStore store, StateLock.Held lock) {
        if (lock != null) {
            lock.close();
        }
        store.close();
    }

    public Path socket() {
        return socket;
    }

    /** Stops accepting, answers what is queued (saved first), closes connections, removes the socket, unlocks. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        log.info("shutting down: no new connections; finishing queued requests");
        systemd.ifPresent(n -> n.send("STOPPING=1"));
        server.stopAccepting();
        watch.shutdownNow();
        loop.close(stopWait);
        if (!loop.stopped()) {
            // A persist may still be under way (a stalled disk): releasing the lock now would let
            // a fallback writer in beside it, and its rename could land over the other's file.
            // Keep the lock: end the process here and let the kernel drop it.
            log.error(
                    "the state thread did not finish within {} s: halting without releasing the state lock",
                    stopWait.toSeconds());
            failure.ending.halt().accept(ErrorCode.SYSTEM_ERROR.exitStatus());
            return;
        }
        systemd.ifPresent(SystemdNotifier::close);
        server.close();
        if (ownsSocket) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.warn("could not remove {}: {}", socket, e.getMessage());
            }
        }
        backend.close();
        release(store, lock);
        log.info("stopped");
    }
}
