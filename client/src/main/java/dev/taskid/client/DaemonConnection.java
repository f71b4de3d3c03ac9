package dev.taskid.client;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.ProtocolException;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.RequestCodec;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.ResponseCodec;
import dev.taskid.protocol.TaskIdException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * One connection to the daemon over the JDK's own Unix-domain socket channel: no Netty here,
 * so the CLI starts fast. Blocking calls with a deadline; the protocol version is checked
 * once, by {@code hello}, when connecting.
 */
public final class DaemonConnection implements AutoCloseable {
    /** Responses may be longer than requests: a batch of 10,000 IDs is ~200 KB. */
    private static final int MAX_RESPONSE_BYTES = 4 << 20;

    private final SocketChannel channel;
    private final Selector selector;
    private final RequestCodec requests = new RequestCodec();
    private final ResponseCodec responses = new ResponseCodec();
    private final Duration timeout;
    private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
    private final Response.Hello hello;

    private DaemonConnection(SocketChannel channel, Selector selector, Duration timeout, long helloDeadline)
            throws IOException, ProtocolException {
        this.channel = channel;
        this.selector = selector;
        this.timeout = timeout;
        in.flip();
        Response r = call(new Request.Hello(null, Protocol.VERSION), helloDeadline);
        if (r instanceof Response.Failure f) {
            throw new TaskIdException(f.code(), f.message(), f.details(), null);
        }
        this.hello = (Response.Hello) r;
        if (hello.protocol() != Protocol.VERSION) {
            throw mismatch(hello.protocol());
        }
    }

    private static TaskIdException mismatch(int daemonVersion) {
        return new TaskIdException(
                ErrorCode.PROTOCOL_MISMATCH,
                "the daemon speaks protocol v" + daemonVersion + ", this client v" + Protocol.VERSION
                        + ": restart the daemon with this taskid (taskid daemon stop; taskid daemon) or use a matching client",
                Map.of("daemon", daemonVersion, "client", Protocol.VERSION),
                null);
    }

    /**
     * Connects if a daemon listens at {@code socket}; empty when there is no socket file, nobody
     * accepts, or connect and hello together take longer than {@code connectTimeout} (a full
     * backlog, a socket-activated service that cannot start): then the fallback serves, and the
     * daemon, if it lives, holds the lock. Before reading any answer, {@code trust} checks the
     * socket's directory and the uid of the process serving it (FORBIDDEN otherwise).
     * {@code timeout} bounds each later request.
     */
    static Optional<DaemonConnection> tryConnect(
            Path socket, DaemonTrust trust, Duration connectTimeout, Duration timeout) {
        if (!trust.mayConnect(socket)) {
            return Optional.empty();
        }
        UnixChannels channels = UnixChannels.create();
        SocketChannel ch;
        try {
            ch = channels.openSocket();
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
        Selector selector = null;
        try {
            long deadline = System.nanoTime() + connectTimeout.toNanos();
            ch.configureBlocking(false);
            selector = channels.openSelector();
            // Non-blocking: a full backlog fails at once (EAGAIN) instead of blocking for ever.
            if (!ch.connect(UnixDomainSocketAddress.of(socket))) {
                awaitConnect(ch, selector, deadline, connectTimeout);
            }
            trust.checkPeer(ch, socket);
            return Optional.of(new DaemonConnection(ch, selector, timeout, deadline));
        } catch (IOException e) {
            close(ch, selector);
            return Optional.empty();
        } catch (ProtocolException e) {
            close(ch, selector);
            throw new TaskIdException(
                    ErrorCode.PROTOCOL_MISMATCH,
                    "the process at " + socket + " does not speak the taskid protocol: " + e.getMessage());
        } catch (RuntimeException e) {
            close(ch, selector);
            throw e;
        }
    }

    private static void awaitConnect(SocketChannel ch, Selector selector, long deadline, Duration connectTimeout)
            throws IOException {
        SelectionKey key = ch.register(selector, SelectionKey.OP_CONNECT);
        while (!ch.finishConnect()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException("not connected within " + connectTimeout.toMillis() + " ms");
            }
            selector.select(Math.max(1, left / 1_000_000));
            selector.selectedKeys().clear();
        }
        key.interestOps(0);
    }

    /** What the daemon said about itself when connecting. */
    public Response.Hello hello() {
        return hello;
    }

    /**
     * Sends one request and reads its response.
     *
     * @throws IOException when the connection breaks or the deadline passes; the request may
     *                     or may not have been applied
     */
    public Response call(Request request) throws IOException, ProtocolException {
        return call(request, System.nanoTime() + timeout.toNanos());
    }

    private Response call(Request request, long deadline) throws IOException, ProtocolException {
        byte[] body = requests.encode(request);
        ByteBuffer out =
                ByteBuffer.allocate(body.length + 1).put(body).put((byte) '\n').flip();
        while (out.hasRemaining()) {
            if (channel.write(out) == 0) {
                await(SelectionKey.OP_WRITE, deadline);
            }
        }
        return responses.decode(readLine(deadline), request.op());
    }

    private byte[] readLine(long deadline) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        while (true) {
            while (in.hasRemaining()) {
                byte b = in.get();
                if (b == '\n') {
                    return line.toByteArray();
                }
                line.write(b);
                if (line.size() > MAX_RESPONSE_BYTES) {
                    throw new IOException("response longer than " + MAX_RESPONSE_BYTES + " bytes");
                }
            }
            in.clear();
            int n = channel.read(in);
            in.flip();
            if (n < 0) {
                throw new IOException("the daemon closed the connection");
            }
            if (n == 0) {
                await(SelectionKey.OP_READ, deadline);
            }
        }
    }

    private void await(int op, long deadline) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new IOException("no answer from the daemon in time");
        }
        SelectionKey key = channel.register(selector, op);
        try {
            selector.select(Math.max(1, left / 1_000_000));
        } finally {
            key.interestOps(0);
            selector.selectedKeys().clear();
        }
    }

    private static void close(SocketChannel ch, Selector selector) {
        try {
            ch.close();
            if (selector != null) {
                selector.close();
            }
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        close(channel, selector);
    }
}
