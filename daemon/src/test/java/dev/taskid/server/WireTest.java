package dev.taskid.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.Version;
import dev.taskid.testing.DaemonProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's wire behaviour against a real daemon process, with raw socket clients: order of
 * pipelined answers, bad input answered without harm to the connection or to others, limits
 * (line length, idle time, connection cap).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class WireTest {
    private static final int MAX_CONNECTIONS = 8;

    @TempDir
    static Path tmp;

    private DaemonProcess daemon;
    private Path socket;
    private final Json json = new Json();

    @BeforeAll
    void start() throws IOException {
        Path state = tmp.resolve("repo/.taskid");
        Files.createDirectories(state.getParent().resolve(".git"));
        daemon = DaemonProcess.start(
                state, Map.of(), List.of("-Dtaskid.idleSeconds=2", "-Dtaskid.maxConnections=" + MAX_CONNECTIONS));
        socket = state.resolve("daemon.sock");
    }

    @AfterAll
    void stop() {
        daemon.close();
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderAndBadLinesLeaveTheConnectionUsable() throws Exception {
        StringBuilder batch = new StringBuilder();
        int n = 300;
        for (int i = 1; i <= n; i++) {
            batch.append(
                            switch (i % 5) {
                                case 0 -> "{\"id\":" + i + ",\"op\":\"ping\"}";
                                case 1 -> "{\"id\":" + i + ",\"op\":\"reserve\",\"prefix\":\"DEV\",\"count\":2}";
                                case 2 -> "{not json";
                                case 3 -> "{\"id\":" + i + ",\"op\":\"frobnicate\"}";
                                default -> "{\"id\":\"s" + i + "\",\"op\":\"peek\",\"prefix\":\"DEV\"}";
                            })
                    .append('\n');
        }
        try (Client c = new Client()) {
            c.send(batch.toString()); // one write: the daemon sees them all at once
            long lastNumber = 0;
            for (int i = 1; i <= n; i++) {
                Map<String, Object> r = c.read();
                switch (i % 5) {
                    case 0 -> assertEquals((long) i, r.get("id"), r::toString);
                    case 1 -> {
                        assertEquals((long) i, r.get("id"), r::toString);
                        List<?> numbers = (List<?>) r.get("numbers");
                        assertEquals(lastNumber + 1, numbers.get(0), "in order, no gap: " + r);
                        lastNumber = (Long) numbers.get(1);
                    }
                    case 2 -> assertEquals("BAD_REQUEST", code(r), r::toString);
                    case 3 -> assertEquals("UNKNOWN_OP", code(r), r::toString);
                    default -> assertEquals("s" + i, r.get("id"), r::toString);
                }
            }
            assertEquals(Boolean.TRUE, c.call("{\"id\":1,\"op\":\"ping\"}").get("ok"), "still usable");
        }
    }

    @Test
    void aTooLongLineIsAnsweredThenTheConnectionIsClosed() throws Exception {
        try (Client c = new Client()) {
            try {
                c.send("{\"id\":1,\"op\":\"ping\"}\n{\"op\":\"reserve\",\"purpose\":\""
                        + "x".repeat(Protocol.MAX_LINE_BYTES + 10) + "\"}\n{\"id\":3,\"op\":\"ping\"}\n");
            } catch (IOException closedWhileSending) {
                // the daemon may close before the last bytes are sent; its answers are still there
            }
            assertEquals(1L, c.read().get("id"));
            assertEquals("LINE_TOO_LONG", code(c.read()));
            assertNull(c.readLine(), "closed after LINE_TOO_LONG");
        }
        try (Client good = new Client()) {
            assertEquals(Boolean.TRUE, good.call("{\"op\":\"ping\"}").get("ok"), "others are not disturbed");
        }
    }

    @Test
    void silentAndGarbageClientsDoNotDisturbAGoodOneAndIdleOnesAreClosed() throws Exception {
        List<Client> bad = new ArrayList<>();
        try (Client good = new Client()) {
            for (int i = 0; i < 3; i++) {
                Client slow = new Client();
                slow.send("{\"op\":\"reserve\",\"prefix\":"); // half a line, then nothing
                bad.add(slow);
            }
            Client garbage = new Client();
            garbage.send("\u0000\u0001\u0002 garbage\n".repeat(50));
            bad.add(garbage);
            for (int i = 0; i < 50; i++) {
                assertEquals(
                        Boolean.TRUE,
                        good.call("{\"op\":\"reserve\",\"prefix\":\"OPS\"}").get("ok"));
            }
            for (int k = 0; k < 50; k++) {
                assertEquals("BAD_REQUEST", code(garbage.read()));
            }
            // Idle clients (the silent ones, and this one once it stops) are closed by the daemon.
            for (Client slow : bad.subList(0, 3)) {
                assertNull(slow.readLine(), "a silent client is closed after the idle timeout");
            }
        } finally {
            for (Client c : bad) {
                c.close();
            }
        }
    }

    @Test
    void aFloodOfBadConnectionsDoesNotDisturbAGoodOne() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(3);
        AtomicBoolean stop = new AtomicBoolean();
        await().atMost(Duration.ofSeconds(30)).until(() -> openConnections() == 1);
        try (Client good = new Client()) {
            // Served before the flood starts: accepted connections are counted in no fixed order.
            assertEquals(Boolean.TRUE, good.call("{\"op\":\"ping\"}").get("ok"));
            List<Future<Integer>> floods = new ArrayList<>();
            for (int kind = 0; kind < 3; kind++) {
                int k = kind;
                floods.add(threads.submit(() -> flood(k, stop)));
            }
            long last = 0;
            for (int i = 0; i < 100; i++) {
                Map<String, Object> r = good.call("{\"id\":" + i + ",\"op\":\"reserve\",\"prefix\":\"PERF\"}");
                assertEquals(Boolean.TRUE, r.get("ok"), r::toString);
                assertEquals((long) i, r.get("id"), r::toString);
                long number = (Long) ((List<?>) r.get("numbers")).get(0);
                assertEquals(last + 1, number, "served in order, no gap, while the flood runs: " + r);
                last = number;
            }
            stop.set(true);
            for (Future<Integer> f : floods) {
                assertTrue(f.get(60, TimeUnit.SECONDS) > 0, "each flood thread made connections");
            }
            // Every bad connection is gone again: none is left holding a slot.
            await().atMost(Duration.ofSeconds(30)).until(() -> openConnections() == 2);
        } finally {
            stop.set(true);
            threads.shutdownNow();
        }
    }

    /**
     * Bad clients one after another until told to stop (bounded): garbage, an oversized line,
     * or a cut-off request and a close. Returns how many connections it made.
     */
    private int flood(int kind, AtomicBoolean stop) throws JsonException {
        int made = 0;
        String junk = "{".repeat(Protocol.MAX_LINE_BYTES + 100);
        while (!stop.get() && made < 2_000) {
            try (Client bad = new Client()) {
                made++;
                // BUSY is fair too: flood connections just closed may count against the cap a moment.
                switch (kind) {
                    case 0 -> assertTrue(Set.of("BAD_REQUEST", "BUSY").contains(code(bad.call("}{ \u0000 garbage"))));
                    case 1 -> {
                        try {
                            bad.send(junk);
                        } catch (IOException closedWhileSending) {
                            // the daemon answers and closes before the rest is sent
                        }
                        String line = bad.readLine();
                        assertTrue(line == null || line.contains("LINE_TOO_LONG") || line.contains("BUSY"), line);
                    }
                    default -> bad.send("{\"op\":\"reserve\",\"prefix\":\"PERF\",\"count\":100"); // cut off, gone
                }
            } catch (IOException e) {
                // a bad client's connection closed under it: expected now and then
            }
        }
        return made;
    }

    @Test
    void connectionsOverTheCapGetBusyAndTheDaemonServesTheOthers() throws Exception {
        List<Client> open = new ArrayList<>();
        try {
            // Other tests' connections are closed by now; fill up to the cap.
            await().atMost(Duration.ofSeconds(30)).until(() -> openConnections() == 1);
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                Client c = new Client();
                assertEquals(Boolean.TRUE, c.call("{\"op\":\"ping\"}").get("ok"));
                open.add(c);
            }
            try (Client over = new Client()) {
                over.send("{\"op\":\"ping\"}\n"); // it writes first, as clients do: it must still read BUSY
                assertEquals("BUSY", code(over.read()));
                assertNull(over.readLine(), "closed after BUSY");
            }
            assertEquals(Boolean.TRUE, open.get(0).call("{\"op\":\"ping\"}").get("ok"), "the others are served");
            open.remove(0).close();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                try (Client again = new Client()) {
                    assertEquals(Boolean.TRUE, again.call("{\"op\":\"ping\"}").get("ok"));
                }
            });
        } finally {
            for (Client c : open) {
                c.close();
            }
        }
    }

    @Test
    void helloNamesTheDaemonAndAnotherProtocolVersionIsRefusedClearly() throws Exception {
        try (Client c = new Client()) {
            Map<String, Object> hello = c.call("{\"id\":1,\"op\":\"hello\",\"protocol\":1}");
            assertEquals(1L, hello.get("protocol"));
            assertEquals(daemon.pid(), hello.get("pid"));
            assertEquals(Version.CURRENT, hello.get("version"));
            assertEquals(daemon.stateDir().toAbsolutePath().toString(), hello.get("stateDir"));
            assertTrue(((List<?>) hello.get("capabilities")).contains("reserve"), hello::toString);
            assertEquals("daemon", hello.get("mode"));
            assertTrue(String.valueOf(hello.get("epoch")).length() >= 16, hello::toString);
            Map<String, Object> v2 = c.call("{\"id\":2,\"op\":\"hello\",\"protocol\":2}");
            assertEquals("PROTOCOL_MISMATCH", code(v2));
            String message = String.valueOf(((Map<?, ?>) v2.get("error")).get("message"));
            assertTrue(message.contains("v1") && message.contains("v2"), message);
        }
    }

    // ----------------------------------------------------------------- helpers

    private long openConnections() {
        try (Client c = new Client()) {
            Map<String, Object> stats = c.call("{\"op\":\"stats\"}");
            Map<?, ?> values = (Map<?, ?>) stats.get("stats");
            return ((Number) values.get("connectionsOpen")).longValue();
        } catch (IOException | JsonException e) {
            return -1;
        }
    }

    private static String code(Map<String, Object> response) {
        return response.get("error") instanceof Map<?, ?> e ? String.valueOf(e.get("code")) : "ok:" + response;
    }

    /** A raw client: lines out, lines in, blocking (each test is bounded by @Timeout). */
    private final class Client implements AutoCloseable {
        private final SocketChannel channel;
        private final BufferedReader in;

        Client() throws IOException {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        }

        void send(String text) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                channel.write(b);
            }
        }

        String readLine() throws IOException {
            try {
                return in.readLine();
            } catch (IOException e) {
                return null; // reset by the daemon's close: the same as the end of the stream here
            }
        }

        Map<String, Object> read() throws IOException, JsonException {
            String line = readLine();
            assertTrue(line != null, "the daemon closed the connection");
            byte[] b = line.getBytes(StandardCharsets.UTF_8);
            return json.readObject(b, 0, b.length);
        }

        Map<String, Object> call(String request) throws IOException, JsonException {
            send(request + "\n");
            return read();
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
