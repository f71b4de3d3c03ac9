package dev.taskid.client;

import java.net.StandardProtocolFamily;
import java.nio.channels.SelectableChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Run by {@link UnixChannelsTest} in a JVM of its own (a process's first socket is what is
 * measured): opens a client channel as the CLI does, marks that moment by loading
 * {@link Opened}, then binds a server channel to {@code null}, the one thing the JDK's socket
 * random is for. Prints whether the short path was taken and where the server was bound.
 */
public final class UnixChannelsProbe {
    private UnixChannelsProbe() {}

    /** Loaded only once the client channel is open: the marker in the class-load log. */
    static final class Opened {
        static boolean register(SelectableChannel c) {
            return c.isOpen();
        }
    }

    public static void main(String[] args) throws Exception {
        UnixChannels channels = UnixChannels.create();
        try (SocketChannel client = channels.openSocket()) {
            System.out.println("internals " + channels.internals() + " open " + Opened.register(client));
        }
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(null); // a temporary name, from UnixDomainSockets' random
            System.out.println("bound " + server.getLocalAddress());
        }
    }
}
