package dev.taskid.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connecting and hello have a short deadline of their own (TASKID_CONNECT_TIMEOUT_MS), apart
 * from the request timeout: a socket that accepts and never answers (a socket-activated
 * service that cannot start) or whose backlog is full costs about that much, then the file
 * lock serves (issue 10 item 13a). Before, hello waited the whole 30 s request timeout and a
 * full backlog blocked connect for ever.
 */
@Timeout(120)
class ConnectDeadlineTest {
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    @Test
    void aSocketThatAcceptsAndNeverAnswersCostsTheConnectDeadlineThenTheFallbackServes() throws Exception {
        Path state = Files.createDirectories(tmp.resolve(".taskid"));
        try (ServerSocketChannel silent = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            // The kernel completes connections into the backlog; nobody ever reads them.
            silent.bind(UnixDomainSocketAddress.of(state.resolve("daemon.sock")), 16);
            assertServedByFallbackWithin(state, Duration.ofSeconds(10));
        }
    }

    @Test
    void aFullBacklogDoesNotBlockTheClient() throws Exception {
        Path state = Files.createDirectories(tmp.resolve(".taskid"));
        Path socket = state.resolve("daemon.sock");
        List<SocketChannel> filling = new ArrayList<>();
        try (ServerSocketChannel full = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            full.bind(UnixDomainSocketAddress.of(socket), 1);
            while (filling.size() < 1000) {
                SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                c.configureBlocking(false);
                try {
                    c.connect(UnixDomainSocketAddress.of(socket));
                    filling.add(c);
                } catch (IOException backlogFull) {
                    c.close();
                    break;
                }
            }
            assertTrue(filling.size() < 1000, "the backlog filled up");
            assertServedByFallbackWithin(state, Duration.ofSeconds(10));
        } finally {
            for (SocketChannel c : filling) {
                c.close();
            }
        }
    }

    private static void assertServedByFallbackWithin(Path state, Duration bound) {
        TaskIds.Options options = new TaskIds.Options(
                true, REQUEST_TIMEOUT, Optional.empty(), Map.of("TASKID_CONNECT_TIMEOUT_MS", "500"));
        long start = System.nanoTime();
        Reply reply = assertTimeoutPreemptively(REQUEST_TIMEOUT.plusSeconds(10), () -> {
            try (TaskIds ids = TaskIds.open(StateDir.of(state), options)) {
                return ids.call(new Request.Reserve(null, "SEC", 1, "deadline test", null, null));
            }
        });
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(Mode.FALLBACK, reply.mode(), reply::toString);
        assertEquals(List.of("SEC-1"), ((Response.Reserved) reply.response()).ids());
        assertTrue(tookMs < bound.toMillis(), "served in " + tookMs + " ms, not after the 30 s request timeout");
    }
}
