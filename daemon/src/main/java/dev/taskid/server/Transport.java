package dev.taskid.server;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.PeerCredentials;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.Optional;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The socket flavour: Netty's epoll transport on Linux (peer pid and uid, fd adoption for
 * systemd), the JDK-backed NIO transport elsewhere (macOS) or when epoll's native library
 * does not load (peer user only, through the JDK's SO_PEERCRED).
 */
public interface Transport {

    /**
     * {@code choice} "epoll" or "nio" (system property {@code taskid.transport}), else epoll
     * when its native library loads, else NIO.
     */
    static Transport select(String choice) {
        if (choice == null || choice.isEmpty()) {
            return Epoll.isAvailable() ? new EpollTransport() : new NioTransport();
        }
        return switch (choice) {
            case "epoll" -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException(
                            "taskid.transport=epoll, but epoll is not available: " + Epoll.unavailabilityCause());
                }
                yield new EpollTransport();
            }
            case "nio" -> new NioTransport();
            default -> throw new IllegalArgumentException("taskid.transport must be epoll or nio, got " + choice);
        };
    }

    String name();

    EventLoopGroup newGroup(int threads);

    Class<? extends ServerChannel> serverChannel();

    SocketAddress address(Path socket);

    /** A server channel on an inherited, already listening descriptor (systemd socket activation). */
    ServerChannel adopt(int fd);

    /** The peer's credentials when the transport can tell them. */
    Optional<Peer> peer(Channel channel);

    /** Whether {@link #peer} can tell anyone on this platform; without it the daemon serves nobody. */
    boolean tellsPeers();

    /**
     * Who is on the other end of a connection. {@code pid} is -1 when unknown; {@code uid} is -1
     * when the transport only knows the {@code user} (NIO), which is null when it knows the uid.
     */
    record Peer(int uid, int pid, UserPrincipal user) {
        public Peer(int uid, int pid) {
            this(uid, pid, null);
        }
    }

    final class EpollTransport implements Transport {
        @Override
        public String name() {
            return "epoll";
        }

        @Override
        public EventLoopGroup newGroup(int threads) {
            return new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
        }

        @Override
        public Class<? extends ServerChannel> serverChannel() {
            return EpollServerDomainSocketChannel.class;
        }

        @Override
        public SocketAddress address(Path socket) {
            return new DomainSocketAddress(socket.toString());
        }

        @Override
        public ServerChannel adopt(int fd) {
            // "active" = true: the descriptor already listens; without it Netty never reads.
            return new EpollServerDomainSocketChannel(fd, true);
        }

        @Override
        public boolean tellsPeers() {
            return true;
        }

        @Override
        public Optional<Peer> peer(Channel channel) {
            if (!(channel instanceof EpollDomainSocketChannel ch)) {
                return Optional.empty();
            }
            try {
                PeerCredentials c = ch.peerCredentials();
                return Optional.of(new Peer(c.uid(), c.pid()));
            } catch (IOException e) {
                return Optional.empty();
            }
        }
    }

    final class NioTransport implements Transport {
        @Override
        public String name() {
            return "nio";
        }

        @Override
        public EventLoopGroup newGroup(int threads) {
            return new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
        }

        @Override
        public Class<? extends ServerChannel> serverChannel() {
            return NioServerDomainSocketChannel.class;
        }

        @Override
        public SocketAddress address(Path socket) {
            return UnixDomainSocketAddress.of(socket);
        }

        @Override
        public ServerChannel adopt(int fd) {
            throw new UnsupportedOperationException("socket activation needs the epoll transport (Linux)");
        }

        @Override
        public boolean tellsPeers() {
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                return probe.supportedOptions().contains(ExtendedSocketOptions.SO_PEERCRED);
            } catch (IOException | UnsupportedOperationException e) {
                return false;
            }
        }

        @Override
        public Optional<Peer> peer(Channel channel) {
            if (!(channel instanceof NioDomainSocketChannel ch)) {
                return Optional.empty();
            }
            try {
                UnixDomainPrincipal p = ch.config().getOption(NioChannelOption.of(ExtendedSocketOptions.SO_PEERCRED));
                return p == null ? Optional.empty() : Optional.of(new Peer(-1, -1, p.user()));
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }
    }
}
