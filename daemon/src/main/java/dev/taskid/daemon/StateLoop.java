package dev.taskid.daemon;

import dev.taskid.allocator.Allocator;
import dev.taskid.allocator.Ledger;
import dev.taskid.backend.LocalBackend;
import dev.taskid.backend.StateBackend;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.protocol.Version;
import dev.taskid.server.Connections;
import dev.taskid.server.Fatal;
import dev.taskid.server.Inbound;
import dev.taskid.server.PeerCheck;
import dev.taskid.server.Refusals;
import dev.taskid.server.RequestDecoder;
import dev.taskid.server.RequestSink;
import dev.taskid.server.Transport;
import dev.taskid.state.AuditEntry;
import dev.taskid.state.AuditLog;
import dev.taskid.state.StateStore;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The counters' owner, on ONE Netty event loop: the loop every connection is served on. A
 * decoded request is applied in memory at once, on that loop, and its answer held in the open
 * batch. After the loop's round of I/O the batch is sealed and its whole state handed to the
 * persist pipeline, while the loop goes on applying the next batch in memory. The pipeline has
 * two stages: <em>prepare</em>, on a pool of threads (counters.json's temporary file, which
 * carries the audit lines not yet synced in audit.log, written and fdatasynced; the batch's
 * idempotency keys appended to keys.log, see {@link StateStore#seal} and
 * {@link StateStore#prepare}) and <em>install</em>, on one thread (rename, directory fsync, the
 * audit lines written to audit.log; {@link StateStore#install}). audit.log's and keys.log's
 * fdatasync come later, off the answers' path: every counters.json carries the lines not yet
 * synced, until they reach {@link #CARRY_BYTES} or {@link #CARRY_MILLIS} has passed. Up to
 * {@link #DEPTH} batches are in flight and up to {@link #PREPARING} are prepared at once; the
 * disk works on several at a time. Installs run in the order of the batches (renames in
 * order) and each file holds the whole state (batch k+1's includes k's changes), so when
 * several prepared batches wait for the install thread, only the newest is renamed. A batch's
 * answers are written only when the install that covers it has completed: nothing is
 * acknowledged before it is durable. A failed prepare or install fails that batch and every
 * batch sealed after it (their installs are skipped) and rolls the ledger back to the last
 * durable state: their writes and those of the open batch are answered with the error, their
 * reads again from the durable state. No new batch is sealed until the skipped ones have
 * drained out of the pipeline, then the daemon goes on. Everything here runs on the loop except
 * {@link #prepare}, {@link #installPrepared}, {@link #install}, {@link #persistShared} and
 * {@link #close}.
 *
 * <p>With a shared backend (PostgreSQL) memory is not the truth between batches: another host
 * may have moved the counters. The loop then applies nothing itself; it answers what needs no
 * counters (hello, ping, stats, bad lines) in place and hands the sealed batch to the install
 * thread, which runs it as one transaction ({@link StateBackend#begin}, the allocator on the
 * ledger read there, {@link StateBackend#commit}); the answers come back to the loop after
 * COMMIT. Such batches run one at a time and overlap the next batch's reading.
 */
final class StateLoop implements RequestSink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StateLoop.class);
    static final List<String> CAPABILITIES =
            List.of("reserve", "peek", "validate", "set", "init", "archive", "stats", "ping", "keys");
    /** On a shared backend wrapped prefixes, and so archive, are refused. */
    static final List<String> SHARED_CAPABILITIES =
            List.of("reserve", "peek", "validate", "set", "init", "stats", "ping", "keys");

    /**
     * Batches sealed and not yet reported back by the pipeline, at most this many. More in flight
     * overlap more syncs but split the clients into smaller batches, each paying its syncs' kernel
     * CPU: 4 in flight with 2 prepared at once measured 0.65x the throughput of 2 and 1 at 8 and 64
     * connections (docs/BENCHMARKS.md, session 6). The system properties are for such A/Bs
     * ({@code scripts/bench-redis.sh --also}).
     */
    private static final int DEPTH = Integer.getInteger("taskid.persist.depth", 2);

    /** Prepares under way at once, at most: a batch is sealed only when fewer are. */
    private static final int PREPARING = Integer.getInteger("taskid.persist.preparing", 1);

    /**
     * audit.log is synced once the lines every counters.json carries (those not yet synced) reach
     * this size, or {@link #CARRY_MILLIS} after a batch: a bound on what each persist rewrites,
     * and the answers never wait for that sync (see {@link StateStore#install}).
     */
    private static final long CARRY_BYTES = 32 * 1024;

    private static final long CARRY_MILLIS = 20;

    /** Requests applied in memory, in order, with their answers and audit lines. */
    private static final class Batch {
        final List<Channel> channels = new ArrayList<>();
        final List<Inbound> inbounds = new ArrayList<>();
        final List<Response> answers = new ArrayList<>();
        final List<AuditEntry> audit = new ArrayList<>();
        /** The ledger changes made by this batch (undo entries), committed when it is durable. */
        int changes;
        /** The generation its counters.json carries. */
        long generation;
        /** Which temporary file it is prepared in. */
        int slot;
        /** The run of batches (since the last failure) it belongs to: once one fails, the rest of its run is skipped. */
        int run;

        long started;
        /** Set by the pipeline's threads, read on the loop after their hand-off. */
        volatile TaskIdException failure;
        /** Whether its prepare has completed (guarded by {@link #uninstalled}). */
        boolean ready;
        /** Its written and synced files, set by the prepare thread for the install thread. */
        volatile StateStore.Prepared files;
        /** Whether its answers were written already (failed early, see {@link #persisted}). */
        boolean answered;

        int size() {
            return inbounds.size();
        }
    }

    /** The one in-memory ledger and its store for the local backend; null for a shared one. */
    private final Ledger ledger;

    private final StateStore store;
    /** The shared backend; null for the local one. */
    private final StateBackend shared;

    private final Allocator allocator;
    private final Clock clock;
    private final DaemonStats stats;
    private final String stateDir;
    private final String epoch;
    private final long pid = ProcessHandle.current().pid();
    private final ExecutorService preparer = workers("taskid-prepare", DEPTH);
    private final ExecutorService installer = workers("taskid-persist", 1);
    private final ExecutorService compactor = workers("taskid-compact", 1);
    /** A compaction of keys.log is queued or running. */
    private final AtomicBoolean compacting = new AtomicBoolean();

    private final CountDownLatch drained = new CountDownLatch(1);
    private EventLoop loop;
    private Supplier<Connections> connections = () -> null;
    private Batch open = new Batch();
    /** Sealed batches the pipeline has not reported back yet, oldest first. */
    private final ArrayDeque<Batch> inFlight = new ArrayDeque<>(DEPTH);
    /** The ledger changes of the batches in flight (not yet committed). */
    private int inFlightChanges;
    /** Batches in flight whose prepare has not completed. */
    private int preparing;
    /**
     * Sealed batches not yet handed to the install thread, oldest first, and whether each one's
     * prepare has completed; guarded by itself (the loop adds, the prepare threads take).
     */
    private final ArrayDeque<Batch> uninstalled = new ArrayDeque<>(DEPTH);
    /** After a failure: batches sealed before it are still being skipped by the pipeline. */
    private boolean draining;

    private int run;
    private int sealed;
    /** On the install thread only: the newest run one of whose batches failed. */
    private int failedRun = -1;

    private boolean sealScheduled;
    private boolean auditSyncScheduled;
    private boolean closing;
    private volatile long heartbeat = System.nanoTime();
    private volatile long persistStarted;

    StateLoop(StateBackend backend, Allocator allocator, Clock clock, String stateDir, String epoch) {
        if (backend instanceof LocalBackend local) {
            this.ledger = local.ledger();
            this.store = local.store();
            this.shared = null;
        } else {
            this.ledger = null;
            this.store = null;
            this.shared = backend;
        }
        this.allocator = allocator;
        this.clock = clock;
        this.stats = new DaemonStats(clock.instant());
        this.stateDir = stateDir;
        this.epoch = epoch;
    }

    /** Serves on {@code loop}, the event loop of every connection. */
    void start(EventLoop loop, Supplier<Connections> connections) {
        this.loop = loop;
        this.connections = connections;
        loop.scheduleAtFixedRate(() -> heartbeat = System.nanoTime(), 1, 1, TimeUnit.SECONDS);
    }

    /** On the loop: applies the request in memory; its answer waits for the persist of its batch. */
    @Override
    public void submit(Channel channel, Inbound inbound) {
        // Once closing, new work is left unanswered (and unapplied): its connection is closed
        // at shutdown and the client retries elsewhere; busy clients cannot keep the drain
        // going past close()'s wait.
        if (closing) {
            return;
        }
        Request r = inbound.request();
        if (!needsCounters(inbound)
                && !inbound.endOfInput()
                && !inbound.closeAfter()
                && RequestDecoder.unanswered(channel) == 1) {
            // hello, ping, stats, a bad line: nothing of the state, and nothing of this
            // connection's is waiting, so no batch in flight can hold it back (a new
            // connection's hello would otherwise wait for the persists under way).
            Response answer = answer(inbound, null);
            stats.answered(r == null ? "invalid" : r.op(), answer);
            channel.writeAndFlush(answer).addListener(done -> RequestDecoder.written(channel, 1));
            return;
        }
        Response answer;
        if (shared != null) {
            answer = needsCounters(inbound) ? null : answer(inbound, null); // the transaction answers those
        } else {
            int mark = ledger.changes();
            try {
                answer = answer(inbound, ledger);
            } catch (RuntimeException e) {
                log.error("unexpected failure applying a request; answering it SYSTEM_ERROR", e);
                ledger.rollbackTo(mark);
                answer = Response.Failure.of(r == null ? null : r.id(), ErrorCode.SYSTEM_ERROR, "internal error: " + e);
            }
            if (r != null && r.mutates()) {
                AuditEntry.collect(r, answer, requester(channel), clock.instant(), open.audit);
            }
        }
        open.channels.add(channel);
        open.inbounds.add(inbound);
        open.answers.add(answer);
        if (!sealScheduled) {
            sealScheduled = true;
            loop.execute(() -> guarded(this::seal)); // runs after this round of reads: the batch
        }
    }

    private static ExecutorService workers(String name, int threads) {
        return Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    private static void guarded(Runnable task) {
        try {
            task.run();
        } catch (Error e) {
            Fatal.halt(Thread.currentThread().getName(), e);
        }
    }

    private void seal() {
        sealScheduled = false;
        next();
    }

    /**
     * Starts the open batch's persist when the pipeline can take it (no prepare under way, fewer
     * than {@link #DEPTH} in flight, not draining after a failure), or answers it at once when it
     * changed nothing and nothing is in flight. Otherwise the open batch goes on growing.
     */
    private void next() {
        if (open.size() == 0) {
            checkDrained();
            return;
        }
        if (shared != null) {
            if (!inFlight.isEmpty()) {
                return;
            }
            Batch b = takeOpen();
            if (b.inbounds.stream().noneMatch(StateLoop::needsCounters)) {
                answer(b); // nothing in it needs the counters
                checkDrained();
                return;
            }
            track(b);
            installer.execute(() -> persistShared(b));
            return;
        }
        if (draining || inFlight.size() >= DEPTH || preparing >= PREPARING) {
            return;
        }
        int changes = ledger.changes() - inFlightChanges;
        if (changes == 0) {
            if (inFlight.isEmpty()) {
                answer(takeOpen());
                checkDrained();
            } // else its reads may show changes not durable yet: it waits for the batches in flight
            return;
        }
        Batch b = takeOpen();
        ledger.advanceGeneration(); // a change of the batch: a failed persist takes it back
        b.changes = changes + 1;
        inFlightChanges += b.changes;
        b.generation = ledger.generation();
        b.slot = sealed++ % DEPTH; // batches complete in order: the slot of the one DEPTH before is free
        b.run = run;
        byte[] counters = store.file().encode(ledger);
        StateStore.Sealed s = store.seal(b.generation, b.audit);
        track(b);
        preparing++;
        synchronized (uninstalled) {
            uninstalled.addLast(b);
        }
        preparer.execute(() -> prepare(b, counters, s));
    }

    /** Seals the open batch: a new one takes new requests. */
    private Batch takeOpen() {
        Batch b = open;
        open = new Batch();
        stats.batch(b.size());
        return b;
    }

    private void track(Batch b) {
        b.started = System.nanoTime();
        if (inFlight.isEmpty()) {
            persistStarted = b.started;
        }
        inFlight.addLast(b);
    }

    /** On a prepare thread: the batch's temporary file and key lines; then it may be installed. */
    private void prepare(Batch b, byte[] counters, StateStore.Sealed s) {
        try {
            b.files = store.prepare(counters, s, b.slot);
        } catch (RuntimeException e) {
            b.failure = asFailure(e);
        } catch (Error e) {
            Fatal.halt(Thread.currentThread().getName(), e);
        }
        installPrepared(b);
        loop.execute(() -> guarded(() -> {
            preparing--;
            next();
        }));
    }

    /**
     * On a prepare thread, {@code done} being prepared: hands the prepared batches at the head of
     * the pipeline to the install thread, in order, as one group (one rename and directory fsync
     * for all of them, see {@link StateStore#install}).
     */
    private void installPrepared(Batch done) {
        synchronized (uninstalled) {
            done.ready = true;
            List<Batch> group = null;
            while (!uninstalled.isEmpty() && uninstalled.peekFirst().ready) {
                if (group == null) {
                    group = new ArrayList<>(uninstalled.size());
                }
                group.add(uninstalled.pollFirst());
            }
            if (group != null) {
                List<Batch> batches = group;
                installer.execute(() -> install(batches)); // under the lock: groups go in order
            }
        }
    }

    /**
     * On the install thread: renames the group's newest file into place and appends the group's
     * audit lines, for the batches up to the first that failed to prepare or whose run failed
     * already; that one and the rest are abandoned. The outcomes go back to the loop, in order.
     */
    private void install(List<Batch> group) {
        boolean installed = false;
        try {
            List<StateStore.Prepared> files = new ArrayList<>(group.size());
            for (Batch b : group) {
                if (b.failure != null || b.run <= failedRun) {
                    break;
                }
                files.add(b.files);
            }
            if (!files.isEmpty()) {
                try {
                    store.install(files);
                    installed = true;
                } catch (StateStore.KeysLost e) {
                    Fatal.halt(Thread.currentThread().getName(), e); // see syncAudit
                } catch (RuntimeException e) {
                    TaskIdException failure = asFailure(e);
                    for (int i = 0; i < files.size(); i++) {
                        group.get(i).failure = failure;
                    }
                }
            }
            for (Batch b : group) {
                if (b.failure == null && b.run <= failedRun) {
                    b.failure = new TaskIdException(
                            ErrorCode.SYSTEM_ERROR,
                            "could not persist: a batch before this one failed to persist",
                            Map.of(),
                            null);
                }
                if (b.failure != null) {
                    failedRun = b.run;
                    store.abandon(b.generation, b.slot);
                }
            }
        } catch (Error e) {
            Fatal.halt(Thread.currentThread().getName(), e);
        }
        long done = System.nanoTime();
        loop.execute(() -> guarded(() -> {
            for (Batch b : group) {
                persisted(b, done - b.started);
            }
        }));
        if (installed) {
            if (store.keysCompactionDue() && compacting.compareAndSet(false, true)) {
                try {
                    compactor.execute(this::compactKeys);
                } catch (RejectedExecutionException stopping) {
                    compacting.set(false); // the daemon is stopping: the next start's first compaction does it
                }
            }
            syncAudit(CARRY_BYTES); // after the answers
        }
    }

    /**
     * On the compaction thread: keys.log's compaction (see {@link StateStore#compactKeys}), which
     * reads and writes a megabyte and syncs it: tens of milliseconds the installs do not wait for.
     */
    private void compactKeys() {
        try {
            store.compactKeys();
        } catch (RuntimeException e) {
            log.error("could not compact keys.log (tried again after a later batch): {}", e.getMessage());
        } catch (Error e) {
            Fatal.halt(Thread.currentThread().getName(), e);
        } finally {
            compacting.set(false);
        }
    }

    /** On the install thread: audit.log's fdatasync once the lines counters.json carries reach {@code atLeast} bytes. */
    private void syncAudit(long atLeast) {
        try {
            store.syncAudit(atLeast);
        } catch (StateStore.KeysLost e) {
            // Key lines the carried audit lines no longer cover (once synced) may be gone: only
            // a load restores them. Halting keeps the lock until the process is gone.
            Fatal.halt(Thread.currentThread().getName(), e);
        } catch (RuntimeException e) {
            log.error(
                    "could not sync audit.log (its lines are written again before the next batch): {}", e.getMessage());
        } catch (Error e) {
            Fatal.halt(Thread.currentThread().getName(), e);
        }
    }

    private static TaskIdException asFailure(RuntimeException e) {
        return e instanceof TaskIdException t
                ? t
                : new TaskIdException(ErrorCode.SYSTEM_ERROR, "could not persist: " + e, Map.of(), e);
    }

    /**
     * On the persist thread, shared backend: the batch as one transaction. Its state requests are
     * answered from the ledger the backend read; when the transaction fails they are answered
     * with the error, and the next batch reads the counters again (nothing is kept in memory).
     */
    private void persistShared(Batch b) {
        long start = System.nanoTime();
        List<Request> requests = new ArrayList<>();
        for (Inbound in : b.inbounds) {
            if (needsCounters(in)) {
                requests.add(in.request());
            }
        }
        TaskIdException failure = null;
        try {
            Ledger read = shared.begin(requests);
            try {
                for (int i = 0; i < b.size(); i++) {
                    Inbound in = b.inbounds.get(i);
                    if (needsCounters(in)) {
                        Response answer = allocator.apply(read, in.request());
                        b.answers.set(i, answer);
                        if (in.request().mutates()) {
                            AuditEntry.collect(
                                    in.request(), answer, requester(b.channels.get(i)), clock.instant(), b.audit);
                        }
                    }
                }
            } catch (RuntimeException e) {
                shared.end(read);
                throw e;
            }
            if (read.dirty()) {
                shared.commit(read, b.audit); // answers only after COMMIT returned
            } else {
                shared.end(read);
            }
        } catch (TaskIdException e) {
            failure = e;
        } catch (RuntimeException e) {
            failure = new TaskIdException(ErrorCode.SYSTEM_ERROR, "could not run the batch: " + e, Map.of(), e);
        } catch (Error e) {
            Fatal.halt(Thread.currentThread().getName(), e);
        }
        if (failure != null) {
            for (int i = 0; i < b.size(); i++) {
                Inbound in = b.inbounds.get(i);
                if (needsCounters(in)) {
                    b.answers.set(i, failure.toFailure(in.request().id()));
                }
            }
        }
        long nanos = System.nanoTime() - start;
        boolean wrote = failure == null && !b.audit.isEmpty();
        TaskIdException outcome = failure;
        loop.execute(() -> guarded(() -> {
            untrack(b);
            if (outcome != null) {
                stats.persistFailed();
                log.error("a batch of {} failed on the shared backend: {}", b.size(), outcome.getMessage());
            } else if (wrote) {
                stats.persisted(nanos);
                stats.audited(b.audit.size());
            }
            answer(b);
            next();
        }));
    }

    /** Whether {@code in} is answered from the counters (a state request), not by the loop alone. */
    private static boolean needsCounters(Inbound in) {
        Request r = in.request();
        return !in.endOfInput()
                && in.failure() == null
                && r != null
                && !(r instanceof Request.Hello || r instanceof Request.Ping || r instanceof Request.Stats);
    }

    private void untrack(Batch b) {
        if (inFlight.pollFirst() != b) {
            throw new IllegalStateException("the pipeline reported batches out of order");
        }
        Batch oldest = inFlight.peekFirst();
        persistStarted = oldest == null ? 0 : oldest.started;
    }

    /** On the loop: a batch came out of the pipeline, durable or failed. */
    private void persisted(Batch b, long nanos) {
        untrack(b);
        TaskIdException failure = b.failure;
        if (failure == null) {
            ledger.commitOldest(b.changes);
            inFlightChanges -= b.changes;
            stats.persisted(nanos);
            stats.audited(b.audit.size());
            answer(b);
            if (!auditSyncScheduled && !b.audit.isEmpty()) {
                auditSyncScheduled = true;
                loop.schedule(
                        () -> {
                            auditSyncScheduled = false;
                            if (!closing) { // close() syncs last
                                installer.execute(() -> syncAudit(0));
                            }
                        },
                        CARRY_MILLIS,
                        TimeUnit.MILLISECONDS);
            }
        } else if (!b.answered) {
            // The first failure of a run: everything not durable goes back, and every batch after
            // this one is skipped by the install thread (its run is over).
            stats.persistFailed();
            log.error(
                    "could not persist a batch of {} (nor the {} sealed and {} applied after it): {}",
                    b.size(),
                    inFlight.size(),
                    open.size(),
                    failure.getMessage());
            ledger.rollback();
            inFlightChanges = 0;
            run++;
            draining = !inFlight.isEmpty();
            fail(b, failure);
            answer(b);
            for (Batch later : inFlight) {
                fail(later, failure);
                answer(later);
                later.answered = true;
            }
            fail(open, failure);
        } else if (inFlight.isEmpty()) {
            draining = false; // the last skipped batch is out: the pipeline is empty again
        }
        next();
    }

    /** After a failed persist: writes fail, reads are answered again from the durable state. */
    private void fail(Batch b, TaskIdException e) {
        b.audit.clear();
        for (int i = 0; i < b.size(); i++) {
            Inbound in = b.inbounds.get(i);
            Request r = in.request();
            b.answers.set(i, r != null && r.mutates() ? e.toFailure(r.id()) : answer(in, ledger));
        }
    }

    /**
     * Writes a batch's answers in order, closes where asked, flushes each channel once, and
     * tells each channel's decoder when its answers are written (flow control counts an
     * answer when it has left, not when it was made).
     */
    private void answer(Batch b) {
        Map<Channel, ChannelFuture> last = new IdentityHashMap<>();
        Map<Channel, int[]> counts = new IdentityHashMap<>();
        for (int i = 0; i < b.size(); i++) {
            Channel ch = b.channels.get(i);
            Inbound in = b.inbounds.get(i);
            ChannelFuture f;
            if (in.endOfInput()) {
                f = ch.write(Unpooled.EMPTY_BUFFER);
                f.addListener(ChannelFutureListener.CLOSE);
            } else {
                Response answer = b.answers.get(i);
                stats.answered(in.request() == null ? "invalid" : in.request().op(), answer);
                f = ch.write(answer);
                if (in.closeAfter()) {
                    Refusals.end(ch); // LINE_TOO_LONG: the client must be able to read it
                }
            }
            last.put(ch, f);
            counts.computeIfAbsent(ch, c -> new int[1])[0]++;
        }
        last.forEach((ch, f) -> {
            ch.flush();
            int n = counts.get(ch)[0];
            f.addListener(done -> RequestDecoder.written(ch, n));
        });
    }

    /** Who sent a request, for the audit log: the peer's credentials when the transport tells them. */
    private static AuditEntry.Requester requester(Channel channel) {
        Transport.Peer peer = PeerCheck.peer(channel);
        return peer == null
                ? new AuditEntry.Requester(-1, -1, AuditLog.DAEMON, -1)
                : new AuditEntry.Requester(peer.pid(), peer.uid(), AuditLog.DAEMON, -1);
    }

    /** The answer to one line from {@code ledger}; null for {@link Inbound#END_OF_INPUT}, which gets none. */
    private Response answer(Inbound in, Ledger ledger) {
        if (in.endOfInput()) {
            return null;
        }
        if (in.failure() != null) {
            return in.failure();
        }
        Request r = in.request();
        if (r instanceof Request.Hello h) {
            if (h.protocol() != Protocol.VERSION) {
                return Response.Failure.of(
                        r.id(),
                        ErrorCode.PROTOCOL_MISMATCH,
                        "this daemon speaks protocol v" + Protocol.VERSION + ", the client v" + h.protocol()
                                + ": use a client of the daemon's version or restart the daemon with the client's",
                        Map.of("daemon", Protocol.VERSION, "client", h.protocol()));
            }
            return new Response.Hello(
                    r.id(),
                    Protocol.VERSION,
                    Version.CURRENT,
                    shared == null ? CAPABILITIES : SHARED_CAPABILITIES,
                    pid,
                    stateDir,
                    epoch,
                    "daemon");
        }
        if (r instanceof Request.Ping) {
            return new Response.Pong(r.id());
        }
        if (r instanceof Request.Stats) {
            return new Response.Stats(r.id(), stats.snapshot(clock.instant(), connections.get(), pid, epoch));
        }
        return allocator.apply(ledger, r);
    }

    private void checkDrained() {
        if (closing && inFlight.isEmpty() && open.size() == 0) {
            drained.countDown();
        }
    }

    /** True while the loop runs its tasks and no persist has been stuck for {@code withinNanos}. */
    boolean healthy(long withinNanos) {
        long now = System.nanoTime();
        long started = persistStarted;
        return now - heartbeat < withinNanos && (started == 0 || now - started < withinNanos);
    }

    /** Stops taking new work; what was applied is saved and answered first (bounded wait). */
    @Override
    public void close() {
        close(java.time.Duration.ofSeconds(30));
    }

    /** {@link #close()}, waiting at most {@code wait} for the last batch; see {@link #stopped()}. */
    void close(java.time.Duration wait) {
        if (loop == null) {
            return;
        }
        loop.execute(() -> guarded(() -> {
            closing = true;
            next();
            checkDrained();
        }));
        try {
            if (!drained.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("shutdown: the last batch was not saved and answered within {} ms", wait.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        preparer.shutdown();
        compactor.shutdown();
        try {
            compactor.awaitTermination(30, TimeUnit.SECONDS); // it renames in the state directory
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        installer.execute(() -> syncAudit(0));
        installer.shutdown();
        try {
            installer.awaitTermination(5, TimeUnit.SECONDS); // the last batch's audit sync
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Whether everything applied was saved and answered and no persist runs: only then may the
     * lock be released (a persist still under way could rename its file over a fallback writer's).
     */
    boolean stopped() {
        return loop == null || (drained.getCount() == 0 && !compacting.get());
    }
}
