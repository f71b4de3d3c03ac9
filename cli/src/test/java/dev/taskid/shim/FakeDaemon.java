package dev.taskid.shim;

import dev.taskid.allocator.Allocator;
import dev.taskid.allocator.Ledger;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.ProtocolException;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.RequestCodec;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.ResponseCodec;
import dev.taskid.state.Config;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for the daemon in the client module's tests (the real one lives in daemon/): the
 * real wire codec and the real allocation rules over an in-memory ledger, on a Unix socket.
 * It records every request line. {@code hangUp} makes it die on the first request after hello:
 * it stops listening and closes the connection without answering.
 */
final class FakeDaemon implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Path socket;
    private final RequestCodec requests = new RequestCodec();
    private final ResponseCodec responses = new ResponseCodec();
    private final Allocator allocator = new Allocator(Config.defaults(), Clock.systemUTC());
    private final Ledger ledger;
    private final boolean hangUp;
    final List<String> received = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    FakeDaemon(Path socket, Map<String, Long> counters, boolean hangUp) throws IOException {
        this.socket = socket;
        this.ledger = new Ledger(counters, List.of());
        this.hangUp = hangUp;
        Files.createDirectories(socket.getParent());
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        acceptor = new Thread(this::accept, "fake-daemon");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void accept() {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                Thread t = new Thread(() -> serve(ch), "fake-daemon-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel ch) {
        try (ch;
                InputStream in = Channels.newInputStream(ch);
                OutputStream out = Channels.newOutputStream(ch)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != -1) {
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                byte[] bytes = line.toByteArray();
                line.reset();
                received.add(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
                Response response;
                try {
                    Request request = requests.decode(bytes);
                    if (hangUp && !(request instanceof Request.Hello)) {
                        close(); // a daemon that dies mid-request: the socket is gone too
                        return;
                    }
                    response = answer(request);
                } catch (ProtocolException e) {
                    response = e.toFailure();
                }
                out.write(responses.encode(response));
                out.write('\n');
                out.flush();
            }
        } catch (IOException ignored) {
            // the client went away
        }
    }

    private synchronized Response answer(Request request) {
        if (request instanceof Request.Hello) {
            return new Response.Hello(
                    request.id(),
                    Protocol.VERSION,
                    "fake",
                    List.of("reserve"),
                    ProcessHandle.current().pid(),
                    socket.getParent().toString(),
                    "fake-epoch",
                    "daemon");
        }
        Response r = allocator.apply(ledger, request);
        ledger.commit();
        return r;
    }

    synchronized long counter(String prefix) {
        return ledger.counter(prefix);
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(socket);
    }
}
