package dev.taskid.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that pipeline and never read (issue 10, items 7 and 11), against a real daemon
 * process with the launcher's heap (-Xmx64m) over real sockets: the daemon's memory stays
 * bounded, a good client beside them stays served, and a daemon that cannot serve exits
 * rather than holding the lock while answering nobody.
 */
@Timeout(240)
class NonReadingClientsTest {
    /** The flooders' connections: left open (never read) until the test ends. */
    private final List<SocketChannel> openUntilTheEnd = new ArrayList<>();

    @AfterEach
    void closeFlooders() throws IOException {
        for (SocketChannel c : openUntilTheEnd) {
            c.close();
        }
    }

    private static final List<String> LAUNCHER_HEAP = List.of("-XX:+UseSerialGC", "-Xms8m", "-Xmx64m");
    private static final byte[] PEEK = "{\"op\":\"peek\"}\n".getBytes(StandardCharsets.US_ASCII);
    /** A good call slower than this counts as unserved. */
    private static final Duration SERVED_WITHIN = Duration.ofSeconds(10);
    /** RSS cap: the 64 MiB heap plus the JVM's own (code, metaspace, stacks) and Netty's direct buffers. */
    private static final long RSS_CAP_KIB = 200 * 1024;

    @Test
    void pipelinedPeeksNeverReadNeverLeaveADaemonThatHoldsTheLockAndServesNobody(@TempDir Path tmp) throws Exception {
        Path state = repo(tmp);
        try (DaemonProcess daemon = DaemonProcess.start(state, Map.of(), LAUNCHER_HEAP)) {
            Run run = flood(daemon, 4, 8L << 20, Duration.ofSeconds(30));
            System.out.println("4 non-reading clients: " + run);
            if (run.unserved > 0) {
                // Unserved is only allowed on the way out: a daemon that cannot serve exits.
                daemon.process().waitFor(20, TimeUnit.SECONDS);
            }
            if (daemon.process().isAlive()) {
                assertEquals(0, run.unserved, "alive, so it must serve; " + run + "; log:\n" + daemon.log());
                assertTrue(daemon.answers(), "alive after the flood, so it must answer; log:\n" + daemon.log());
            } else {
                assertNotEquals(0, daemon.process().exitValue(), "a daemon that cannot serve exits non-zero");
                // The lock died with it: the fallback works at once.
                TaskIds.Options fallback = new TaskIds.Options(true, Duration.ofSeconds(2), Optional.empty(), Map.of());
                try (TaskIds ids = TaskIds.open(StateDir.of(state), fallback)) {
                    assertEquals(
                            1,
                            ids.reserve("SEC", 1, "after the daemon's exit")
                                    .ids()
                                    .size());
                }
            }
        }
    }

    @Test
    void fiftyClientsPipeliningMegabytesNeverReadAndAGoodClientStaysServedInBoundedMemory(@TempDir Path tmp)
            throws Exception {
        Path state = repo(tmp);
        List<String> jvm = new ArrayList<>(LAUNCHER_HEAP);
        jvm.add("-Dtaskid.idleSeconds=15"); // longer than SERVED_WITHIN: the good client is never idle that long
        try (DaemonProcess daemon = DaemonProcess.start(state, Map.of(), jvm)) {
            Run run = flood(daemon, 50, 4L << 20, Duration.ofSeconds(20));
            System.out.println("50 non-reading clients: " + run);
            assertTrue(daemon.process().isAlive(), "the daemon died:\n" + daemon.log());
            assertEquals(0, run.unserved, run.toString());
            assertTrue(run.calls > 0, run.toString());
            assertTrue(run.maxRssKiB < RSS_CAP_KIB, "RSS " + run.maxRssKiB + " KiB over the cap; " + run);
            assertFalse(daemon.log().contains("OutOfMemoryError"), daemon.log());
            assertTrue(daemon.answers());
            // Still open and never read: the flooders are idle (nothing read from them, nothing
            // written to them) and closed after the idle timeout, freeing their slots.
            try (TaskIds ids = TaskIds.open(StateDir.of(state), daemon.clientOptions())) {
                await().atMost(Duration.ofSeconds(90))
                        .until(() -> ((Number) ((Response.Stats) ids.call(new Request.Stats(null))
                                                        .response())
                                                .values()
                                                .get("connectionsOpen"))
                                        .intValue()
                                <= 1);
            }
            assertEquals(0, daemon.stop(), daemon.log());
        }
    }

    private static Path repo(Path tmp) throws IOException {
        Path state = tmp.resolve("repo/.taskid");
        Files.createDirectories(state.getParent().resolve(".git"));
        return state;
    }

    /** What the good client saw while the flood ran, and the daemon's peak RSS. */
    record Run(
            int calls,
            int unserved,
            long p50Micros,
            long p99Micros,
            long maxMicros,
            long floodedBytes,
            long maxRssKiB) {}

    /**
     * {@code flooders} connections each try to send {@code bytesEach} of pipelined peeks and
     * never read, for at most {@code duration}; meanwhile one good connection reserves an ID
     * at a time and reads each answer. Stops early when the daemon exits or a good call is
     * not answered within {@link #SERVED_WITHIN}.
     */
    private Run flood(DaemonProcess daemon, int flooders, long bytesEach, Duration duration) throws Exception {
        Path socket = daemon.stateDir().resolve("daemon.sock");
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        List<SocketChannel> open = new ArrayList<>();
        try {
            for (int i = 0; i < flooders; i++) {
                open.add(connect(socket, false));
            }
            Future<Long> sent = pool.submit(() -> send(open, bytesEach, stop));
            List<Long> micros = new ArrayList<>();
            int unserved = 0;
            long maxRss = 0;
            long deadline = System.nanoTime() + duration.toNanos();
            try (SocketChannel good = connect(socket, false);
                    Selector selector = Selector.open()) {
                good.register(selector, SelectionKey.OP_READ);
                ByteBuffer in = ByteBuffer.allocate(64 * 1024);
                int n = 0;
                while (System.nanoTime() < deadline && daemon.process().isAlive()) {
                    maxRss = Math.max(maxRss, DaemonProcess.memoryKiB(daemon.pid())[0]);
                    long start = System.nanoTime();
                    ByteBuffer req = ByteBuffer.wrap(
                            ("{\"id\":" + (++n) + ",\"op\":\"reserve\",\"prefix\":\"SEC\",\"count\":1}\n")
                                    .getBytes(StandardCharsets.US_ASCII));
                    while (req.hasRemaining()) {
                        good.write(req);
                    }
                    if (!readLine(good, selector, in, start + SERVED_WITHIN.toNanos())) {
                        unserved++;
                        break;
                    }
                    micros.add((System.nanoTime() - start) / 1000);
                }
            } catch (IOException e) {
                unserved++; // the daemon closed or reset the good connection
            }
            stop.set(true);
            long flooded = sent.get(30, TimeUnit.SECONDS);

            long[] sorted = micros.stream().mapToLong(Long::longValue).sorted().toArray();
            return new Run(
                    sorted.length,
                    unserved,
                    pct(sorted, 0.5),
                    pct(sorted, 0.99),
                    sorted.length == 0 ? 0 : sorted[sorted.length - 1],
                    flooded,
                    maxRss);
        } finally {
            stop.set(true);
            pool.shutdownNow();
            openUntilTheEnd.addAll(open);
        }
    }

    private static long pct(long[] sorted, double p) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) (sorted.length * p))];
    }

    private static SocketChannel connect(Path socket, boolean blocking) throws IOException {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        c.connect(UnixDomainSocketAddress.of(socket));
        c.configureBlocking(blocking);
        return c;
    }

    /** Reads up to and including one newline; false when the deadline passes first. */
    private static boolean readLine(SocketChannel c, Selector selector, ByteBuffer in, long deadline)
            throws IOException {
        while (true) {
            in.flip();
            for (int i = in.position(); i < in.limit(); i++) {
                if (in.get(i) == '\n') {
                    in.position(i + 1);
                    in.compact();
                    return true;
                }
            }
            in.position(in.limit()).limit(in.capacity());
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            selector.selectedKeys().clear();
            if (c.read(in) < 0) {
                throw new IOException("closed by the daemon");
            }
        }
    }

    /** Writes pipelined peeks to every connection as fast as they take them, never reading; returns bytes taken. */
    private static long send(List<SocketChannel> channels, long bytesEach, AtomicBoolean stop) throws IOException {
        byte[] chunk = new byte[PEEK.length * 4096];
        for (int i = 0; i < 4096; i++) {
            System.arraycopy(PEEK, 0, chunk, i * PEEK.length, PEEK.length);
        }
        long[] sent = new long[channels.size()];
        ByteBuffer[] pending = new ByteBuffer[channels.size()];
        try (Selector selector = Selector.open()) {
            for (int i = 0; i < channels.size(); i++) {
                channels.get(i).register(selector, SelectionKey.OP_WRITE, i);
            }
            while (!stop.get() && !selector.keys().isEmpty()) {
                selector.select(100);
                for (SelectionKey key : selector.selectedKeys()) {
                    int i = (Integer) key.attachment();
                    if (pending[i] == null || !pending[i].hasRemaining()) {
                        pending[i] = ByteBuffer.wrap(chunk);
                    }
                    try {
                        sent[i] += ((SocketChannel) key.channel()).write(pending[i]);
                    } catch (IOException closed) {
                        key.cancel();
                        continue;
                    }
                    if (sent[i] >= bytesEach) {
                        key.cancel();
                    }
                }
                selector.selectedKeys().clear();
            }
        }
        return Arrays.stream(sent).sum();
    }
}
