package dev.taskid.daemon;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The systemd side of the daemon: the listening socket systemd may hand over (socket
 * activation, fd 3), and sd_notify messages (READY=1, STOPPING=1, WATCHDOG=1) sent as Unix
 * datagrams to $NOTIFY_SOCKET. The JDK cannot send Unix datagrams; Netty's epoll transport
 * can, so no extra library is needed.
 */
final class SystemdNotifier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);
    /** systemd passes inherited sockets from this descriptor on (SD_LISTEN_FDS_START). */
    static final int LISTEN_FDS_START = 3;

    private final Channel channel;

    private SystemdNotifier(Channel channel) {
        this.channel = channel;
    }

    /** The inherited listening socket, when systemd started this very process with one. */
    static OptionalInt listenFd(Map<String, String> env, long pid) {
        String listenPid = env.get("LISTEN_PID");
        String fds = env.get("LISTEN_FDS");
        if (listenPid == null || fds == null || !listenPid.equals(Long.toString(pid))) {
            return OptionalInt.empty();
        }
        try {
            return Integer.parseInt(fds) >= 1 ? OptionalInt.of(LISTEN_FDS_START) : OptionalInt.empty();
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    /** A notifier when $NOTIFY_SOCKET is set (and epoll is available); empty otherwise. */
    static Optional<SystemdNotifier> connect(Map<String, String> env, EventLoopGroup group) {
        String path = env.get("NOTIFY_SOCKET");
        if (path == null || path.isEmpty()) {
            return Optional.empty();
        }
        if (!Epoll.isAvailable()) {
            log.warn("NOTIFY_SOCKET is set but the epoll transport is unavailable: cannot notify systemd");
            return Optional.empty();
        }
        // A leading '@' names an abstract socket, whose name starts with a NUL byte.
        String address = path.startsWith("@") ? "\0" + path.substring(1) : path;
        try {
            Channel ch = new Bootstrap()
                    .group(group)
                    .channel(EpollDomainDatagramChannel.class)
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(new DomainSocketAddress(address))
                    .sync()
                    .channel();
            return Optional.of(new SystemdNotifier(ch));
        } catch (Exception e) {
            log.warn("cannot reach NOTIFY_SOCKET {}: {}", path, e.toString());
            return Optional.empty();
        }
    }

    /** Sends one notification, e.g. "READY=1"; waits briefly so that ordering is kept. */
    void send(String state) {
        channel.writeAndFlush(Unpooled.wrappedBuffer(state.getBytes(StandardCharsets.UTF_8)))
                .awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    /**
     * Sends WATCHDOG=1 at half the interval systemd asked for, but only while {@code healthy}
     * says the state thread is making progress: a stuck daemon gets restarted.
     */
    void startWatchdog(Map<String, String> env, long pid, java.util.function.BooleanSupplier healthy) {
        String usec = env.get("WATCHDOG_USEC");
        String wpid = env.get("WATCHDOG_PID");
        if (usec == null || (wpid != null && !wpid.equals(Long.toString(pid)))) {
            return;
        }
        long period = Math.max(1, Long.parseLong(usec) / 2);
        channel.eventLoop()
                .scheduleAtFixedRate(
                        () -> {
                            if (healthy.getAsBoolean()) {
                                channel.writeAndFlush(
                                        Unpooled.wrappedBuffer("WATCHDOG=1".getBytes(StandardCharsets.UTF_8)));
                            }
                        },
                        period,
                        period,
                        TimeUnit.MICROSECONDS);
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
}
