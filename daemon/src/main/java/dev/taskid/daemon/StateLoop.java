package dev.taskid.daemon;

import dev.taskid.allocator.Allocator;
import dev.taskid.allocator.Ledger;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.protocol.Version;
import dev.taskid.server.Connections;
import dev.taskid.server.Inbound;
import dev.taskid.server.Refusals;
import dev.taskid.server.RequestSink;
import dev.taskid.server.PeerCheck;
import dev.taskid.server.Transport;
import dev.taskid.state.AuditLog;
import dev.taskid.state.StateStore;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import java.time.Clock;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that owns the counters. It takes a request, drains whatever else is queued
 * (a batch), applies them in order, saves the state ONCE for the whole batch (group commit:
 * counters.json, then the batch's audit lines in one append and one fsync; see
 * {@link StateStore#commit}), and only then writes the answers. Nothing is acknowledged before it is durable. If saving
 * fails, the batch is rolled back and its writes are answered SYSTEM_ERROR; the loop goes on.
 *
 * <p>The queue needs no bound of its own: each connection pauses reading at
 * {@code Connections.PAUSE_AT} unanswered requests and connections are capped.
 */
final class StateLoop implements RequestSink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StateLoop.class);
    static final int MAX_BATCH = 4096;
    static final List<String> CAPABILITIES = List.of("reserve", "peek", "validate", "set", "init", "archive", "stats", "ping", "keys");

    private record Work(Channel channel, Inbound inbound) {
    }

    private final LinkedBlockingQueue<Work> queue = new LinkedBlockingQueue<>();
    private final Ledger ledger;
    private final Allocator allocator;
    private final StateStore store;
    private final List<AuditLog.Entry> audit = new ArrayList<>();
    private final Clock clock;
    private final DaemonStats stats;
    private final String stateDir;
    private final String epoch;
    private final long pid = ProcessHandle.current().pid();
    private final Thread thread;
    private volatile Supplier<Connections> connections = () -> null;
    private volatile boolean running = true;
    private volatile long heartbeat = System.nanoTime();

    StateLoop(Ledger ledger, Allocator allocator, StateStore store, Clock clock, String stateDir, String epoch) {
        this.ledger = ledger;
        this.allocator = allocator;
        this.store = store;
        this.clock = clock;
        this.stats = new DaemonStats(clock.instant());
        this.stateDir = stateDir;
        this.epoch = epoch;
        this.thread = new Thread(this::run, "taskid-state");
    }

    void start(Supplier<Connections> connections) {
        this.connections = connections;
        thread.start();
    }

    @Override
    public void submit(Channel channel, Inbound inbound) {
        // Once closing, new work is left unanswered (and unapplied): its connection is closed
        // at shutdown and the client retries elsewhere. Queuing it would let busy clients keep
        // the drain below going past close()'s wait, and the lock could then be released
        // while this thread still writes.
        if (running) {
            queue.add(new Work(channel, inbound));
        }
    }

    private void run() {
        List<Work> batch = new ArrayList<>();
        while (running || !queue.isEmpty()) {
            heartbeat = System.nanoTime();
            try {
                Work first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                process(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.error("state loop: unexpected failure; answering the batch SYSTEM_ERROR", e);
                ledger.rollback();
                audit.clear();
                answerAll(batch, Response.Failure.of(null, ErrorCode.SYSTEM_ERROR, "internal error: " + e));
            } finally {
                batch.clear();
            }
        }
    }

    private void process(List<Work> batch) {
        Response[] answers = new Response[batch.size()];
        audit.clear();
        for (int i = 0; i < answers.length; i++) {
            Work w = batch.get(i);
            answers[i] = answer(w.inbound());
            Request r = w.inbound().request();
            if (r != null && r.mutates()) {
                AuditLog.collect(r, answers[i], requester(w.channel()), clock.instant(), audit);
            }
        }
        stats.batch(batch.size());
        if (ledger.dirty()) {
            long start = System.nanoTime();
            try {
                store.commit(ledger, audit); // rolls the ledger back if it throws
                stats.persisted(System.nanoTime() - start);
                stats.audited(audit.size());
            } catch (TaskIdException e) {
                stats.persistFailed();
                log.error("could not persist a batch of {}: {}", batch.size(), e.getMessage());
                for (int i = 0; i < answers.length; i++) {
                    Inbound in = batch.get(i).inbound();
                    // Writes fail; reads are answered again from the durable state.
                    answers[i] = in.request() != null && in.request().mutates()
                            ? e.toFailure(in.request().id()) : answer(in);
                }
            }
        }
        // One task per event loop for the whole batch, rather than a write task and a flush
        // task per answer sent from this thread, each a hand-off between threads and often a
        // wake-up of the event loop (docs/BENCHMARKS.md, Daemon). Still only after the persist.
        Map<EventLoop, List<Outgoing>> byLoop = new IdentityHashMap<>();
        for (int i = 0; i < answers.length; i++) {
            Work w = batch.get(i);
            Inbound in = w.inbound();
            if (!in.endOfInput()) {
                stats.answered(in.request() == null ? "invalid" : in.request().op(), answers[i]);
            }
            byLoop.computeIfAbsent(w.channel().eventLoop(), l -> new ArrayList<>())
                    .add(new Outgoing(w.channel(), answers[i], in.endOfInput(), in.closeAfter()));
            Connections.answered(w.channel());
        }
        byLoop.forEach((loop, out) -> loop.execute(() -> send(out)));
    }

    private record Outgoing(Channel channel, Response answer, boolean endOfInput, boolean closeAfter) {
    }

    /** On the channels' event loop: writes the answers in order, closes where asked, flushes each channel once. */
    private static void send(List<Outgoing> out) {
        Set<Channel> touched = new LinkedHashSet<>();
        for (Outgoing o : out) {
            if (o.answer() != null) {
                o.channel().write(o.answer());
            }
            touched.add(o.channel());
            if (o.endOfInput()) {
                o.channel().writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else if (o.closeAfter()) {
                Refusals.end(o.channel()); // LINE_TOO_LONG: the client must be able to read it
            }
        }
        for (Channel c : touched) {
            c.flush();
        }
    }

    /** Who sent a request, for the audit log: the peer's credentials when the transport tells them. */
    private static AuditLog.Requester requester(Channel channel) {
        Transport.Peer peer = PeerCheck.peer(channel);
        return peer == null ? new AuditLog.Requester(-1, -1, AuditLog.DAEMON, -1)
                : new AuditLog.Requester(peer.pid(), peer.uid(), AuditLog.DAEMON, -1);
    }

    /** The answer to one line; null for {@link Inbound#END_OF_INPUT}, which gets none. */
    private Response answer(Inbound in) {
        if (in.endOfInput()) {
            return null;
        }
        if (in.failure() != null) {
            return in.failure();
        }
        Request r = in.request();
        if (r instanceof Request.Hello h) {
            if (h.protocol() != Protocol.VERSION) {
                return Response.Failure.of(r.id(), ErrorCode.PROTOCOL_MISMATCH,
                        "this daemon speaks protocol v" + Protocol.VERSION + ", the client v" + h.protocol()
                                + ": use a client of the daemon's version or restart the daemon with the client's",
                        Map.of("daemon", Protocol.VERSION, "client", h.protocol()));
            }
            return new Response.Hello(r.id(), Protocol.VERSION, Version.CURRENT, CAPABILITIES, pid, stateDir, epoch, "daemon");
        }
        if (r instanceof Request.Ping) {
            return new Response.Pong(r.id());
        }
        if (r instanceof Request.Stats) {
            return new Response.Stats(r.id(), stats.snapshot(clock.instant(), connections.get(), pid, epoch));
        }
        return allocator.apply(ledger, r);
    }

    private static void answerAll(List<Work> batch, Response.Failure failure) {
        for (Work w : batch) {
            Request r = w.inbound().request();
            if (w.inbound().endOfInput()) {
                w.channel().writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else {
                w.channel().writeAndFlush(failure.withId(r == null ? null : r.id()));
            }
            Connections.answered(w.channel());
        }
    }

    /** True while the state thread goes round its loop (it wakes at least every 100 ms). */
    boolean healthy(long withinNanos) {
        return thread.isAlive() && System.nanoTime() - heartbeat < withinNanos;
    }

    /** Stops taking new work once the queue is empty: what was queued is saved and answered. */
    @Override
    public void close() {
        close(java.time.Duration.ofSeconds(30));
    }

    /** {@link #close()}, waiting at most {@code wait} for the thread; see {@link #stopped()}. */
    void close(java.time.Duration wait) {
        running = false;
        try {
            thread.join(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the state thread has ended: only then may the lock be released. */
    boolean stopped() {
        return !thread.isAlive();
    }
}
