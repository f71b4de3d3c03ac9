package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many agents at once in the file-lock mode: each agent is a thread that runs the CLI (a
 * fresh JVM per call) again and again, all started together. The OS lock must serialize them
 * so that every ID is handed out once, with no gap, and the counter ends at the total.
 */
class ConcurrentCliTest {
    private static final int AGENTS = 20;
    private static final int CALLS = 10;

    @TempDir
    Path tmp;

    /** What one CLI call asked for and got. */
    private record Call(int count, Processes.Result result) {}

    @Test
    void twentyAgentsTimesTenCallsHandOutEveryIdOnceWithoutGaps() throws Exception {
        CliRepo repo = CliRepo.in(tmp);
        repo.write("TASKS.md", "| SEC-19 | existing |\n");
        assertEquals(0, repo.taskid("init").status()); // the counters exist before the race starts

        CountDownLatch start = new CountDownLatch(1);
        ExecutorService agents = Executors.newFixedThreadPool(AGENTS);
        List<Future<List<Call>>> running = new ArrayList<>();
        try {
            for (int a = 0; a < AGENTS; a++) {
                int agent = a;
                running.add(agents.submit(() -> {
                    start.await();
                    List<Call> calls = new ArrayList<>();
                    for (int i = 0; i < CALLS; i++) {
                        int count = 1 + (agent + i) % 4; // batches of 1 to 4, mixed across agents
                        // The lock timeout is generous: this machine is shared, and what is under
                        // test is uniqueness, not how long a JVM may be descheduled.
                        calls.add(new Call(
                                count,
                                repo.taskid(
                                        "--lock-timeout",
                                        "60000",
                                        "reserve",
                                        "SEC",
                                        String.valueOf(count),
                                        "--agent",
                                        "agent-" + agent)));
                    }
                    return calls;
                }));
            }
            start.countDown();
            TreeSet<Long> numbers = new TreeSet<>();
            int total = 0;
            int handedOut = 0;
            for (Future<List<Call>> f : running) {
                for (Call c : f.get()) {
                    assertEquals(0, c.result().status(), c.result().toString());
                    assertEquals("", c.result().stderr(), c.result().toString());
                    List<?> ids = (List<?>) CliRepo.object(c.result().stdout()).get("ids");
                    assertEquals(c.count(), ids.size(), c.result().toString());
                    long first = Long.parseLong(((String) ids.get(0)).substring(4));
                    for (int k = 0; k < ids.size(); k++) {
                        assertEquals("SEC-" + (first + k), ids.get(k), "a batch is consecutive: " + ids);
                        assertTrue(numbers.add(first + k), "handed out twice: SEC-" + (first + k));
                    }
                    total += c.count();
                    handedOut += ids.size();
                }
            }
            assertEquals(AGENTS * CALLS * 5 / 2, total, "mixed batch sizes 1..4, 2.5 on average");
            assertEquals(total, handedOut);
            assertEquals(20L, numbers.first(), "continues after TASKS.md's SEC-19");
            assertEquals(19L + total, numbers.last(), "no gap: " + total + " numbers from SEC-20");
            assertEquals(19L + total, repo.counter("SEC"), "the counter ends at the total");
        } finally {
            agents.shutdownNow();
        }
    }
}
