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
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.PeerCredentials;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The socket flavour: Netty's epoll transport on Linux (peer pid and uid, fd adoption for
 * systemd), the JDK-backed NIO transport elsewhere (macOS).
 */
public interface Transport {

    /** Epoll when its native library loads, else NIO. */
    static Transport select() {
        return Epoll.isAvailable() ? new EpollTransport() : new NioTransport();
    }

    String name();

    EventLoopGroup newGroup(int threads);

    Class<? extends ServerChannel> serverChannel();

    SocketAddress address(Path socket);

    /** A server channel on an inherited, already listening descriptor (systemd socket activation). */
    ServerChannel adopt(int fd);

    /** The peer's credentials when the transport can tell them. */
    Optional<Peer> peer(Channel channel);

    /** Who is on the other end of a connection; {@code pid} is -1 when unknown. */
    record Peer(int uid, int pid) {
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
        public Optional<Peer> peer(Channel channel) {
            // The JDK exposes SO_PEERCRED only through jdk.net on Linux, where epoll is used.
            return Optional.empty();
        }
    }
}
