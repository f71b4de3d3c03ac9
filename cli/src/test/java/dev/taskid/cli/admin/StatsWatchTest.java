package dev.taskid.cli.admin;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code taskid stats --watch} in a real terminal: tmux on a private socket runs the CLI, the
 * test reads the screen with capture-pane and types with send-keys. The view refreshes as
 * counters move, and 'q' and Ctrl-C both end it with the terminal back in canonical mode with
 * echo. The figures from a daemon's stats are checked on the view itself.
 */
class StatsWatchTest {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    @Test
    void refreshesInATerminalAndQuitsOnQOrCtrlCRestoringIt() throws Exception {
        assumeTrue(Processes.onPath("tmux").isPresent(), "skipped: tmux is not installed");
        Path state = tmp.resolve("state");
        assertEquals(0, taskid("--dir", state.toString(), "reserve", "SEC", "2").status());
        Path script = tmp.resolve("watch.sh");
        // The shell survives Ctrl-C (a trap, not an ignore: the CLI must still get SIGINT) to report.
        Files.writeString(
                script,
                "trap 'true' INT\n"
                        + quoted(Processes.taskid("--dir", state.toString(), "stats", "--watch", "--interval", "0.3"))
                        + "\necho \"EXIT=$?\"\nstty -a\nexec sleep 600\n");
        Path socket = tmp.resolve("tmux.sock");
        tmux(socket, "new-session", "-d", "-s", "quit", "-x", "120", "-y", "40", "sh " + script);
        try {
            await().atMost(WAIT).until(() -> pane(socket, "quit:").contains("no daemon is running"));
            assertTrue(
                    Pattern.compile("(?m)^SEC +2 *$")
                            .matcher(pane(socket, "quit:"))
                            .find(),
                    pane(socket, "quit:"));

            assertEquals(
                    0, taskid("--dir", state.toString(), "reserve", "SEC", "3").status());
            await().atMost(WAIT)
                    .until(() -> Pattern.compile("(?m)^SEC +5 +\\+3$")
                            .matcher(pane(socket, "quit:"))
                            .find());

            tmux(socket, "send-keys", "-t", "quit:", "q");
            await().atMost(WAIT).until(() -> pane(socket, "quit:").contains("EXIT=0"));
            assertRestored(pane(socket, "quit:"));

            tmux(socket, "new-session", "-d", "-s", "interrupt", "-x", "120", "-y", "40", "sh " + script);
            await().atMost(WAIT).until(() -> pane(socket, "interrupt:").contains("no daemon is running"));
            tmux(socket, "send-keys", "-t", "interrupt:", "C-c");
            await().atMost(WAIT).until(() -> pane(socket, "interrupt:").contains("EXIT=130"));
            assertRestored(pane(socket, "interrupt:"));
        } finally {
            killServer(socket);
        }
    }

    @Test
    void badIntervalsAndMixedOptionsAreUsageErrors() {
        Path state = tmp.resolve("state");
        for (List<String> args : List.of(
                List.of("stats", "--watch", "--interval", "0.1"),
                List.of("stats", "--watch", "--interval", "x"),
                List.of("stats", "--interval", "2"),
                List.of("stats", "--watch", "--since", "1h"))) {
            List<String> all = new ArrayList<>(List.of("--dir", state.toString()));
            all.addAll(args);
            Processes.Result r = taskid(all.toArray(String[]::new));
            assertEquals(2, r.status(), args + ": " + r);
            assertEquals("", r.stdout(), args + ": " + r);
        }
    }

    @Test
    void daemonFiguresRatesAndChangesOnTheView() {
        Map<String, Object> daemon = new LinkedHashMap<>();
        daemon.put("pid", 4242L);
        daemon.put("uptimeSeconds", 65L);
        daemon.put("requests", new TreeMap<>(Map.of("reserve", 10L)));
        daemon.put("persists", 9000L);
        daemon.put("percentileWindow", 4096L);
        daemon.put("persistMillisP50", 0.41);
        daemon.put("persistMillisP99", 2.0);
        daemon.put("connectionsOpen", 3L);
        daemon.put("connectionsTotal", 17L);
        Map<String, Object> later = new LinkedHashMap<>(daemon);
        later.put("requests", new TreeMap<>(Map.of("reserve", 14L)));
        Instant t = Instant.parse("2026-12-01T07:00:00Z");
        WatchView.Snapshot first = new WatchView.Snapshot(t, 0, "/s", Map.of("SEC", 5L, "UX", 1L), daemon);
        WatchView.Snapshot second =
                new WatchView.Snapshot(t.plusSeconds(2), 2_000_000_000L, "/s", Map.of("SEC", 11L, "UX", 1L), later);

        String screen = String.join("\n", WatchView.lines(first, first, second, Duration.ofSeconds(2), true));
        assertTrue(screen.contains("daemon:          pid 4242, up 1m 05s"), screen);
        assertTrue(screen.contains("reservations/s:  2.0 (last 2 s)"), screen);
        assertTrue(screen.contains("IDs/s:           3.0 (last 2 s)"), screen);
        assertTrue(screen.contains("persist time:    p50 0.41 ms, p99 2 ms (last 4096 persists)"), screen);
        assertTrue(screen.contains("clients:         3 connected, 17 since start"), screen);
        assertTrue(Pattern.compile("(?m)^SEC +11 +\\+6$").matcher(screen).find(), screen);
        assertTrue(Pattern.compile("(?m)^UX +1 *$").matcher(screen).find(), screen);
        assertFalse(
                String.join("\n", WatchView.lines(null, null, first, Duration.ofSeconds(2), true))
                        .contains("+"),
                "the first refresh has no changes to show");
        assertTrue(screen.contains("since 2026-12-01T07:00:00.000Z"), screen);

        Map<String, Object> json = WatchView.fields(first, second);
        assertEquals("daemon", json.get("mode"));
        assertEquals(3.0, (Double) json.get("idsPerSecond"), 1e-9);
        assertEquals(2.0, (Double) json.get("reservationsPerSecond"), 1e-9);
    }

    private static void assertRestored(String screen) {
        // stty -a after the view: canonical mode and echo are on again ("-icanon"/"-echo" would mean not)
        assertTrue(Pattern.compile("(?<![-\\w])icanon(?![\\w])").matcher(screen).find(), screen);
        assertTrue(Pattern.compile("(?<![-\\w])echo(?![\\w])").matcher(screen).find(), screen);
        assertFalse(screen.contains("-icanon"), screen);
    }

    private Processes.Result taskid(String... args) {
        return Processes.run(Processes.taskid(args), tmp, Map.of(), WAIT);
    }

    private String pane(Path socket, String session) {
        return tmux(socket, "capture-pane", "-p", "-t", session).stdout();
    }

    private Processes.Result tmux(Path socket, String... args) {
        List<String> command = new ArrayList<>(List.of("tmux", "-S", socket.toString()));
        command.addAll(List.of(args));
        Processes.Result r = Processes.run(command, tmp, Map.of(), WAIT);
        assertEquals(0, r.status(), command + ": " + r);
        return r;
    }

    /** Ends the tmux server this test started (by its pid) and what runs in its panes. */
    private void killServer(Path socket) {
        Processes.Result pid = Processes.run(
                List.of("tmux", "-S", socket.toString(), "display-message", "-p", "#{pid}"), tmp, Map.of(), WAIT);
        if (pid.status() != 0) {
            return;
        }
        ProcessHandle.of(Long.parseLong(pid.stdout().trim())).ifPresent(server -> {
            server.descendants().forEach(ProcessHandle::destroy);
            server.destroy();
            server.onExit()
                    .orTimeout(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)
                    .join();
        });
    }

    private static String quoted(List<String> words) {
        return words.stream().map(w -> "'" + w.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
    }
}
