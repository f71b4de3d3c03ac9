package dev.taskid.daemon;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import dev.taskid.state.StateFile;
import dev.taskid.testing.DaemonProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durability across daemon stops and crashes, with real client JVMs that print every ID the
 * moment it is acknowledged: nothing acknowledged is ever lost or handed out twice.
 */
class DaemonRestartTest {
    private static final Duration PHASE = Duration.ofSeconds(90);

    /**
     * 50 client processes reserve in a loop while the daemon is stopped (SIGTERM) and started
     * again: calls in between go through the file-lock fallback. Nothing crashed, so the IDs
     * acknowledged are exactly 1..N: no duplicate, none lost, no gap.
     */
    @Test
    void fiftyClientsAcrossAStopAndStartGetExactlyOneToN(@TempDir Path tmp) throws IOException {
        Path state = stateDir(tmp);
        DaemonProcess first = DaemonProcess.start(state);
        String firstEpoch = epoch(first);
        DaemonProcess second = null;
        try (ReservingClients clients = ReservingClients.start(50, state, "SEC", 100_000, true)) {
            await().atMost(PHASE).until(clients::allStarted);
            assertEquals(0, first.stop(), "a clean stop exits 0");
            long inFallback = clients.count(a -> a.mode().equals("fallback"));
            await().atMost(PHASE).until(() -> clients.count(a -> a.mode().equals("fallback")) >= inFallback + 100);
            second = DaemonProcess.start(state);
            String secondEpoch = epoch(second);
            await().atMost(PHASE).until(() -> clients.count(a -> a.epoch().equals(secondEpoch)) >= 200);

            List<ReservingClients.Ack> acks = clients.finish();
            assertEquals(0, second.stop());
            assertEquals(List.of(), clients.failures(), "failures printed by clients");
            assertTrue(acks.stream().anyMatch(a -> a.epoch().equals(firstEpoch)), "some IDs from the first daemon");
            assertTrue(acks.stream().anyMatch(a -> a.mode().equals("fallback")), "some IDs from the fallback");
            assertEquals(List.of(), oddities(acks), "every ID 1..N acknowledged exactly once");
            assertEquals(acks.size(), counter(state), "final counter = IDs acknowledged");
        } finally {
            first.close();
            if (second != null) {
                second.close();
            }
        }
    }

    /**
     * kill -9 of the daemon under load from client processes, five times. Every ID
     * acknowledged by a daemon that was then killed is at most the counter the restarted
     * daemon loads (what was on disk after the kill); no ID is acknowledged twice in all
     * rounds. Clients do not fall back, so between a kill and the restart nothing changes.
     */
    @Test
    void killNineUnderLoadFiveTimesLosesNothingAcknowledged(@TempDir Path tmp) throws IOException {
        Path state = stateDir(tmp);
        Map<String, Long> durableAtCrash = new HashMap<>();
        List<DaemonProcess> daemons = new ArrayList<>();
        daemons.add(DaemonProcess.start(state));
        try (ReservingClients clients = ReservingClients.start(8, state, "SEC", 1_000_000, false)) {
            for (int round = 0; round < 5; round++) {
                DaemonProcess d = daemons.get(daemons.size() - 1);
                String epoch = epoch(d);
                await().atMost(PHASE).until(() -> clients.count(a -> a.epoch().equals(epoch)) >= 300);
                d.kill();
                durableAtCrash.put(epoch, counter(state));
                daemons.add(DaemonProcess.start(state));
            }
            DaemonProcess last = daemons.get(daemons.size() - 1);
            String lastEpoch = epoch(last);
            await().atMost(PHASE).until(() -> clients.count(a -> a.epoch().equals(lastEpoch)) >= 100);
            List<ReservingClients.Ack> acks = clients.finish();
            assertEquals(0, last.stop());
            long finalCounter = counter(state);

            assertEquals(List.of(), clients.failures(), "failures printed by clients");
            assertEquals(5, durableAtCrash.size());
            for (ReservingClients.Ack a : acks) {
                assertEquals("daemon", a.mode(), "clients without fallback");
                long bound = durableAtCrash.getOrDefault(a.epoch(), finalCounter);
                assertTrue(
                        a.number() <= bound,
                        a.id() + " acknowledged by daemon " + a.epoch() + ", whose restart loaded only " + bound);
            }
            Set<String> unique = new HashSet<>();
            for (ReservingClients.Ack a : acks) {
                assertTrue(unique.add(a.id()), a.id() + " acknowledged twice");
            }
            assertTrue(acks.size() >= 5 * 300 + 100);
        } finally {
            daemons.forEach(DaemonProcess::close);
        }
    }

    /** Numbers in 1..N acknowledged twice or never (N = how many were acknowledged); empty when none. */
    private static List<String> oddities(List<ReservingClients.Ack> acks) {
        Map<Long, Long> times =
                acks.stream().collect(Collectors.groupingBy(ReservingClients.Ack::number, Collectors.counting()));
        List<String> odd = new ArrayList<>();
        for (long n = 1; n <= acks.size(); n++) {
            long t = times.getOrDefault(n, 0L);
            if (t != 1) {
                odd.add(n + " acknowledged " + t + " times");
            }
        }
        return odd;
    }

    /** A state dir whose lock timeout outlasts 50 fallback writers queueing for the lock. */
    private static Path stateDir(Path tmp) throws IOException {
        Path state = tmp.resolve(StateDir.NAME);
        Files.createDirectories(state);
        Files.writeString(state.resolve("config.json"), "{\"lockTimeoutMs\":60000}");
        return state;
    }

    private static String epoch(DaemonProcess d) {
        try (TaskIds ids = TaskIds.open(StateDir.of(d.stateDir()), d.clientOptions())) {
            return ids.daemon()
                    .map(Response.Hello::epoch)
                    .orElseThrow(() -> new AssertionError("no daemon:\n" + d.log()));
        }
    }

    /** What counters.json holds: what a daemon started now would load. */
    private static long counter(Path state) {
        return new StateFile(state.resolve("counters.json"), new Json(), Clock.systemUTC())
                .read()
                .orElseThrow()
                .counter("SEC");
    }
}
