package dev.taskid.server;

import dev.taskid.protocol.RequestCodec;
import dev.taskid.protocol.ResponseCodec;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The Unix socket server. ONE event loop, the state loop, accepts and serves every
 * connection and also applies the requests (see {@code StateLoop}): no request
 * crosses a thread. Per connection, one handler per job: connection cap → peer check → idle
 * timeout → framing, decoding and flow control → the state, and response encoding on the
 * way out.
 */
public final class SocketServer implements AutoCloseable {

    /**
     * Limits: connections at once, idle time (in either direction) before a connection is
     * closed, requests in flight over all connections before new ones are answered BUSY.
     */
    public record Settings(int maxConnections, Duration idleTimeout, int maxInFlight) {}

    /** A connection's outbound bytes above which it stops being read, and below which it is read again. */
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);

    private final Transport transport;
    private final EventLoopGroup workers;
    private final Backlog backlog;
    private final Connections connections;
    private final ResponseEncoder encoder;
    private final RequestCodec requests;
    private final Refusals refusals;
    private final PeerCheck peerCheck;
    private final long idleMillis;
    private final ServerBootstrap bootstrap;
    private Channel server;

    public SocketServer(Transport transport, Settings settings, PeerCheck peerCheck) {
        this.transport = transport;
        this.workers = transport.newGroup(1);
        this.connections = new Connections(settings.maxConnections());
        this.backlog = new Backlog(settings.maxInFlight());
        this.encoder = new ResponseEncoder(new ResponseCodec());
        this.requests = new RequestCodec();
        this.refusals = new Refusals();
        this.peerCheck = peerCheck;
        this.idleMillis = settings.idleTimeout().toMillis();
        this.bootstrap = new ServerBootstrap()
                // Accepting on the same loop bounds the accept rate by what the loop serves: a
                // flood of connections cannot pile up accepted descriptors ahead of it.
                .group(workers)
                // A client may send its requests, shut down its side, and still read the answers.
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK);
    }

    /** A connection's handlers, in order; {@code handler} hands its requests to the state. */
    private void addHandlers(ChannelPipeline p, RequestHandler handler) {
        p.addLast("encoder", encoder);
        p.addLast("refusals", refusals);
        p.addLast("connections", connections);
        p.addLast("peer", peerCheck);
        p.addLast("idle", new IdleStateHandler(idleMillis, idleMillis, 0, TimeUnit.MILLISECONDS));
        p.addLast("decoder", new RequestDecoder(requests, backlog));
        p.addLast("handler", handler);
    }

    private ServerBootstrap serving(RequestSink sink) {
        RequestHandler handler = new RequestHandler(sink);
        return bootstrap.clone().childHandler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                addHandlers(ch.pipeline(), handler);
            }
        });
    }

    /**
     * Does now, on the calling thread, what the first connection would otherwise pay for on
     * the event loop: loading the handlers' classes and Netty's reflection on each handler
     * class (which of its methods carry {@code @Skip}, whether it is {@code @Sharable}), cached
     * per class. On a pipeline of a channel that is never registered: no handler runs.
     */
    public void warmUp() {
        addHandlers(new EmbeddedChannel(false, false).pipeline(), new RequestHandler((channel, inbound) -> {}));
    }

    public Transport transport() {
        return transport;
    }

    public Connections connections() {
        return connections;
    }

    public Backlog backlog() {
        return backlog;
    }

    /** The one event loop every connection is served on: the state's thread. */
    public EventLoop stateLoop() {
        return workers.next();
    }

    /**
     * Starts listening at {@code socket} (which must not exist: bind would unlink it); the
     * requests go to {@code sink}.
     */
    public void bind(Path socket, RequestSink sink) throws InterruptedException {
        server = serving(sink)
                .channel(transport.serverChannel())
                .bind(transport.address(socket))
                .sync()
                .channel();
    }

    /** Serves on a descriptor that already listens (systemd socket activation) instead of binding. */
    public void adopt(int fd, RequestSink sink) throws InterruptedException {
        server = serving(sink)
                .channelFactory(() -> transport.adopt(fd))
                .register()
                .sync()
                .channel();
    }

    /** The event loop group (one thread), for other channels the daemon needs (systemd notifications). */
    public EventLoopGroup eventLoops() {
        return workers;
    }

    /** Stops accepting new connections; open ones keep being served. */
    public void stopAccepting() {
        if (server != null) {
            server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    /** Closes every connection (after what was written to them is flushed) and the event loops. */
    @Override
    public void close() {
        stopAccepting();
        connections.closeAll(TimeUnit.SECONDS.toMillis(5));
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
