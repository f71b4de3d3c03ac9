package dev.taskid.systemd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taskid.testing.Processes;
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
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * systemd starts the daemon on the first connection and hands it the listening socket; the
 * daemon tells systemd READY=1 only once it holds the state lock and has loaded the state, and
 * STOPPING=1 when it is asked to stop. Real tools: systemd-socket-activate and a datagram
 * receiver standing in for systemd's notify socket.
 */
class SocketActivationTest {
    @TempDir
    Path tmp;

    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private final List<String> notifications = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void firstConnectionStartsTheDaemonWhichServesTheInheritedSocket() throws Exception {
        assumeTrue(Processes.onPath("systemd-socket-activate").isPresent(), "systemd-socket-activate is not installed");
        assumeTrue(Processes.onPath("python3").isPresent(), "python3 is not installed");
        Path dir = Files.createDirectories(tmp.resolve("repo/.taskid"));
        Path socket = dir.resolve("daemon.sock");
        Path notify = tmp.resolve("notify.sock");
        startNotifyReceiver(notify);

        Process daemon = start(List.of(
                "systemd-socket-activate",
                "-l",
                socket.toString(),
                "-E",
                "NOTIFY_SOCKET=" + notify,
                Processes.java(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.taskid.daemon.DaemonMain",
                "--dir",
                dir.toString()));
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(socket));
        assertFalse(Files.exists(dir.resolve("counters.json")), "nothing runs before the first connection");

        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            ch.write(ByteBuffer.wrap(
                    "{\"id\":7,\"op\":\"reserve\",\"prefix\":\"SEC\",\"count\":2}\n".getBytes(StandardCharsets.UTF_8)));
            String answer = in.readLine();
            assertTrue(answer.contains("\"ids\":[\"SEC-1\",\"SEC-2\"]"), answer);
            assertTrue(answer.startsWith("{\"id\":7,\"ok\":true"), answer);
        }
        assertTrue(Files.readString(dir.resolve("counters.json")).contains("\"SEC\":2"), "durable before the answer");

        await().atMost(Duration.ofSeconds(10))
                .until(() -> notifications.stream().anyMatch(n -> n.contains("READY=1")));
        assertTrue(Files.readString(dir.resolve("lock")).contains("(daemon)"), "READY=1 only after the lock is held");

        daemon.destroy(); // SIGTERM
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "daemon stops on SIGTERM");
        assertEquals(0, daemon.exitValue());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> notifications.stream().anyMatch(n -> n.contains("STOPPING=1")));
        assertTrue(notifications.indexOf(notifications.stream()
                        .filter(n -> n.contains("READY=1"))
                        .findFirst()
                        .orElseThrow())
                < notifications.indexOf(notifications.stream()
                        .filter(n -> n.contains("STOPPING=1"))
                        .findFirst()
                        .orElseThrow()));
    }

    private void startNotifyReceiver(Path path) throws IOException {
        String script = "import socket,sys\n"
                + "s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\n"
                + "s.bind(sys.argv[1])\n"
                + "print('bound',flush=True)\n"
                + "while True:\n"
                + "    print(s.recv(4096).decode().replace('\\n',' '),flush=True)\n";
        Process receiver = start(List.of("python3", "-c", script, path.toString()));
        Thread reader = new Thread(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(receiver.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    notifications.add(line);
                }
            } catch (IOException e) {
                // the receiver was stopped
            }
        });
        reader.setDaemon(true);
        reader.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> notifications.contains("bound"));
    }

    private Process start(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command)
                .directory(tmp.toFile())
                .redirectError(
                        tmp.resolve("stderr-" + processes.size() + ".log").toFile())
                .start();
        processes.add(p);
        return p;
    }
}
