package dev.taskid.backend.postgres;

import static dev.taskid.backend.postgres.Hosts.assertNoDuplicates;
import static dev.taskid.backend.postgres.Hosts.audited;
import static dev.taskid.backend.postgres.Hosts.cli;
import static dev.taskid.backend.postgres.Hosts.counter;
import static dev.taskid.backend.postgres.Hosts.host;
import static dev.taskid.backend.postgres.Hosts.initSchema;
import static dev.taskid.backend.postgres.Hosts.load;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.NetNamespace;
import dev.taskid.testing.PgCluster;
import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A partition, for real: one host's daemon runs in a network namespace of its own and reaches
 * PostgreSQL over a veth pair; an nftables drop rule in that namespace cuts it off while two
 * other daemons on the same database keep serving under load. Its clients (on its Unix socket,
 * which the namespace does not touch) get BACKEND_UNAVAILABLE, exit 7, within its bounded wait,
 * never IDs from local state; once the rule is gone it serves again. No ID twice across hosts,
 * and the committed audit rows cover exactly 1..counter.
 */
class PartitionTest {
    /** The partitioned host's bound on connecting and on each statement. */
    private static final long TIMEOUT_MS = 2000;

    @TempDir
    Path tmp;

    @Test
    void aPartitionedHostRefusesWithinItsBoundNeverAnswersLocallyAndServesAgainAfterwards() throws Exception {
        try (NetNamespace ns = NetNamespace.create();
                PgCluster pg = PgCluster.start(ns.hostAddress(), ns.cidr())) {
            String url = pg.createDatabase("partition");
            initSchema(host(tmp.resolve("init"), url, 30_000));
            String viaVeth = url.replace("@127.0.0.1:", "@" + ns.hostAddress() + ":");
            List<DaemonProcess> daemons = new ArrayList<>();
            ExecutorService loader = Executors.newSingleThreadExecutor();
            try {
                DaemonProcess cutOff = DaemonProcess.start(
                        host(tmp.resolve("cut"), viaVeth, TIMEOUT_MS), Map.of(), List.of(), ns::wrap);
                daemons.add(cutOff);
                for (int h = 0; h < 2; h++) {
                    daemons.add(DaemonProcess.start(host(tmp.resolve("host" + h), url, 15_000)));
                }
                Supplier<TaskIds> partitioned =
                        () -> TaskIds.open(StateDir.of(cutOff.stateDir()), cutOff.clientOptions());
                List<Supplier<TaskIds>> others = new ArrayList<>();
                for (DaemonProcess d : daemons.subList(1, 3)) {
                    others.add(() -> TaskIds.open(StateDir.of(d.stateDir()), d.clientOptions()));
                }
                // The other hosts reserve all along; the partitioned one before and after.
                AtomicBoolean stop = new AtomicBoolean();
                Future<Hosts.Outcome> othersLoad = loader.submit(() -> load(others, 2, Integer.MAX_VALUE, stop));
                Hosts.Outcome before = load(List.of(partitioned), 3, 20, new AtomicBoolean());
                assertEquals(0, before.failures(), before.errors().toString());

                ns.cut();
                long atCut = counter(pg, url, "SEC");
                try (TaskIds ids = partitioned.get()) {
                    for (int i = 0; i < 3; i++) {
                        long start = System.nanoTime();
                        TaskIdException e = assertThrows(TaskIdException.class, () -> ids.reserve("SEC", 1, "cut off"));
                        long ms = (System.nanoTime() - start) / 1_000_000;
                        System.out.println("partitioned reservation refused after " + ms + " ms: " + e.getMessage());
                        assertEquals(ErrorCode.BACKEND_UNAVAILABLE, e.code(), e.getMessage());
                        assertTrue(e.getMessage().contains("retry"), e.getMessage());
                        // Its bound: one statement's timeout, then reconnect attempts until the deadline; slack for a
                        // loaded machine.
                        assertTrue(
                                ms < 3 * TIMEOUT_MS + 2000, "refused after " + ms + " ms, bound " + TIMEOUT_MS + " ms");
                    }
                }
                Processes.Result refused = cli(cutOff.stateDir(), "reserve", "SEC", "--json");
                assertEquals(7, refused.status(), refused.toString());
                assertTrue(refused.stderr().contains("BACKEND_UNAVAILABLE"), refused.toString());
                assertFalse(refused.stdout().contains("SEC-"), refused.toString());
                // Meanwhile the others keep serving (the cut-off session's row locks end with it, server side).
                await().atMost(Duration.ofSeconds(60)).until(() -> counter(pg, url, "SEC") > atCut + 50);

                ns.heal();
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(200))
                        .ignoreException(TaskIdException.class)
                        .until(() -> {
                            try (TaskIds ids = partitioned.get()) {
                                return !ids.reserve("SEC", 1, "healed")
                                        .numbers()
                                        .isEmpty();
                            }
                        });
                Hosts.Outcome after = load(List.of(partitioned), 3, 20, new AtomicBoolean());
                assertEquals(0, after.failures(), after.errors().toString());
                stop.set(true);
                Hosts.Outcome rest = othersLoad.get(2, TimeUnit.MINUTES);
                System.out.println(
                        "others during the partition: " + rest.failures() + " failed calls " + rest.errors());

                List<Long> all = new ArrayList<>(before.numbers());
                all.addAll(after.numbers());
                all.addAll(rest.numbers());
                assertNoDuplicates(all);
                long counter = counter(pg, url, "SEC");
                Set<Long> audited = audited(pg, url, "SEC"); // no number in two committed reservations
                assertEquals(counter, audited.size(), "the committed reservations cover 1.." + counter + " exactly");
                assertEquals(counter, audited.isEmpty() ? 0 : new TreeSet<>(audited).last());
                assertTrue(audited.containsAll(all), "an acknowledged ID is not in a committed reservation");
                assertFalse(Files.exists(cutOff.stateDir().resolve("counters.json")), "never the local files");
                for (DaemonProcess d : daemons) {
                    assertEquals(0, d.stop(), d.log());
                }
            } finally {
                loader.shutdownNow();
                daemons.forEach(DaemonProcess::close);
            }
        }
    }
}
