package dev.taskid.daemon;

import dev.taskid.allocator.Allocator;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.JsonLines;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.protocol.Version;
import dev.taskid.server.PeerCheck;
import dev.taskid.server.SocketServer;
import dev.taskid.server.Transport;
import dev.taskid.state.AuditLog;
import dev.taskid.state.Config;
import dev.taskid.state.StateDir;
import dev.taskid.state.StateLock;
import dev.taskid.state.StateStore;
import dev.taskid.state.Users;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.UUID;
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

    private final StateStore store;
    private final StateLock.Held lock;
    private final StateLoop loop;
    private final SocketServer server;
    private final Path socket;
    private final boolean ownsSocket;
    private final Optional<SystemdNotifier> systemd;
    private boolean closed;

    private Daemon(StateStore store, StateLock.Held lock, StateLoop loop, SocketServer server, Path socket,
                   boolean ownsSocket, Optional<SystemdNotifier> systemd) {
        this.store = store;
        this.lock = lock;
        this.loop = loop;
        this.server = server;
        this.socket = socket;
        this.ownsSocket = ownsSocket;
        this.systemd = systemd;
    }

    /**
     * Starts a daemon for {@code dir}.
     *
     * @throws TaskIdException LOCK_TIMEOUT when another daemon or a fallback writer holds the
     *                         lock for longer than the lock timeout; STATE_CORRUPT, SYSTEM_ERROR
     */
    public static Daemon start(StateDir dir, SocketServer.Settings settings, Map<String, String> env)
            throws InterruptedException {
        JsonLines json = new JsonLines();
        Clock clock = Clock.systemUTC();
        Config config = Config.load(dir.config(), json);
        StateStore store = StateStore.open(dir, json, clock, config.audit());
        StateLock.Held lock = null;
        try {
            lock = store.lock().acquire(config.lockTimeout(), "daemon");
            StateStore.Loaded loaded = store.load(config, AuditLog.Requester.self(AuditLog.DAEMON, -1));
            loaded.notice().ifPresent(log::info);
            try {
                store.file().backup(loaded.ledger()); // the known-good copy `taskid recover` reads
            } catch (TaskIdException e) {
                log.warn("no backup made at start: {}", e.getMessage());
            }
            int uid = Users.currentUid();
            Path socket = dir.socket(env, uid);
            long pid = ProcessHandle.current().pid();
            OptionalInt inherited = SystemdNotifier.listenFd(env, pid);
            if (inherited.isEmpty()) {
                prepareSocketPath(socket);
            }
            String epoch = UUID.randomUUID().toString();
            StateLoop loop = new StateLoop(loaded.ledger(), new Allocator(config, clock), store, clock,
                    dir.dir().toString(), epoch);
            Transport transport = Transport.select();
            SocketServer server = new SocketServer(transport, settings, json, loop,
                    new PeerCheck(transport, uid, config.allowedUids()));
            loop.start(server.stateLoop(), server::connections);
            if (inherited.isPresent()) {
                // systemd made, owns and removes the socket; we serve on the descriptor it passed.
                server.adopt(inherited.getAsInt());
            } else {
                server.bind(socket);
                Files.setPosixFilePermissions(socket,
                        PosixFilePermissions.fromString(config.allowedUids().isEmpty() ? "rw-------" : "rw-rw-rw-"));
            }
            log.info("taskid daemon {} serving {} on {} (pid {}, {} transport, {}, epoch {})", Version.CURRENT, dir,
                    socket, pid, transport.name(), inherited.isPresent() ? "socket from systemd" : "bound", epoch);
            // Ready only now: the lock is held, the state loaded and the socket served.
            Optional<SystemdNotifier> systemd = SystemdNotifier.connect(env, server.eventLoops());
            systemd.ifPresent(n -> {
                n.send("READY=1\nSTATUS=serving " + dir + "\nMAINPID=" + pid);
                n.startWatchdog(env, pid, () -> loop.healthy(TimeUnit.SECONDS.toNanos(10)));
            });
            return new Daemon(store, lock, loop, server, socket, inherited.isEmpty(), systemd);
        } catch (IOException e) {
            release(store, lock);
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot set up the socket: " + e.getMessage(), Map.of(), e);
        } catch (RuntimeException | InterruptedException e) {
            release(store, lock);
            throw e;
        }
    }

    /**
     * Makes the socket's directory (0700) and removes a socket left by a dead daemon: we hold
     * the state lock, so no live daemon can own it.
     */
    private static void prepareSocketPath(Path socket) throws IOException {
        Path parent = socket.getParent();
        if (!Files.isDirectory(parent)) {
            Files.createDirectories(parent, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        if (Files.deleteIfExists(socket)) {
            log.info("replaced the stale socket {} left by a daemon that did not shut down cleanly", socket);
        }
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
        loop.close();
        systemd.ifPresent(SystemdNotifier::close);
        server.close();
        if (ownsSocket) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.warn("could not remove {}: {}", socket, e.getMessage());
            }
        }
        release(store, lock);
        log.info("stopped");
    }
}
