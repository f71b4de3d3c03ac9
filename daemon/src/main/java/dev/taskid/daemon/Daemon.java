package dev.taskid.daemon;

import dev.taskid.allocator.Allocator;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.JsonLines;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.protocol.Version;
import dev.taskid.server.PeerCheck;
import dev.taskid.server.SocketServer;
import dev.taskid.server.Transport;
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
    private boolean closed;

    private Daemon(StateStore store, StateLock.Held lock, StateLoop loop, SocketServer server, Path socket) {
        this.store = store;
        this.lock = lock;
        this.loop = loop;
        this.server = server;
        this.socket = socket;
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
        StateStore store = StateStore.open(dir, json, clock);
        StateLock.Held lock = null;
        try {
            lock = store.lock().acquire(config.lockTimeout(), "daemon");
            StateStore.Loaded loaded = store.load(config);
            loaded.notice().ifPresent(log::info);
            int uid = Users.currentUid();
            Path socket = dir.socket(env, uid);
            prepareSocketPath(socket);
            String epoch = UUID.randomUUID().toString();
            StateLoop loop = new StateLoop(loaded.ledger(), new Allocator(config, clock), store.file(), clock,
                    dir.dir().toString(), epoch);
            Transport transport = Transport.select();
            SocketServer server = new SocketServer(transport, settings, json, loop,
                    new PeerCheck(transport, uid, config.allowedUids()));
            loop.start(server::connections);
            server.bind(socket);
            Files.setPosixFilePermissions(socket,
                    PosixFilePermissions.fromString(config.allowedUids().isEmpty() ? "rw-------" : "rw-rw-rw-"));
            log.info("taskid daemon {} serving {} on {} (pid {}, {} transport, epoch {})", Version.CURRENT, dir, socket,
                    ProcessHandle.current().pid(), transport.name(), epoch);
            return new Daemon(store, lock, loop, server, socket);
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
        server.stopAccepting();
        loop.close();
        server.close();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.warn("could not remove {}: {}", socket, e.getMessage());
        }
        release(store, lock);
        log.info("stopped");
    }
}
