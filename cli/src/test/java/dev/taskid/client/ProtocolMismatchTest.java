package dev.taskid.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.StateDir;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon of another protocol major version is never half understood, and never silently
 * bypassed through the fallback: the client stops with PROTOCOL_MISMATCH naming both versions.
 */
@Timeout(60)
class ProtocolMismatchTest {
    @TempDir
    Path tmp;

    @Test
    void aDaemonSpeakingV2IsRefusedByNameNotBypassed() throws Exception {
        assertMismatch(
                "{\"ok\":true,\"protocol\":2,\"version\":\"2.0.0\",\"capabilities\":[],\"pid\":1,"
                        + "\"stateDir\":\"/x\",\"epoch\":\"e\",\"mode\":\"daemon\"}",
                "v2",
                "v1");
    }

    @Test
    void aDaemonThatRefusesThisClientsVersionIsReportedAsSuch() throws Exception {
        assertMismatch(
                "{\"ok\":false,\"error\":{\"code\":\"PROTOCOL_MISMATCH\",\"message\":\"this daemon speaks protocol v2, "
                        + "the client v1\",\"retry\":false,\"details\":{}}}",
                "v2",
                "v1");
    }

    private void assertMismatch(String helloAnswer, String... named) throws Exception {
        Path state = Files.createDirectories(tmp.resolve(".taskid"));
        Path socket = state.resolve("daemon.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread answering = new Thread(() -> answerHello(server, helloAnswer), "fake-v2-daemon");
            answering.setDaemon(true);
            answering.start();
            try (TaskIds ids = TaskIds.open(StateDir.of(state), TaskIds.Options.DEFAULT)) {
                TaskIdException e = assertThrows(TaskIdException.class, () -> ids.reserve("SEC", 1, "test"));
                assertEquals(ErrorCode.PROTOCOL_MISMATCH, e.code(), e.getMessage());
                for (String version : named) {
                    assertTrue(e.getMessage().contains(version), e.getMessage());
                }
            }
        }
        assertFalse(Files.exists(state.resolve("counters.json")), "no fallback reservation behind the daemon's back");
    }

    private static void answerHello(ServerSocketChannel server, String answer) {
        try (SocketChannel ch = server.accept()) {
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            if (in.readLine() != null) {
                ch.write(ByteBuffer.wrap((answer + "\n").getBytes(StandardCharsets.UTF_8)));
            }
            in.readLine(); // wait for the client to hang up
        } catch (IOException e) {
            // the client hung up: done
        }
    }
}
