package dev.taskid.daemon;

import static org.awaitility.Awaitility.await;

import dev.taskid.testing.Processes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Many {@link ReservingClient} JVMs, for tests: every line they print is collected as it
 * comes, so what each acknowledged is known even when daemons die under them. Small JVMs
 * (C1 only, serial GC, small heap, CDS) so that 50 of them fit on 2 cores.
 */
final class ReservingClients implements AutoCloseable {
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);

    /** One acknowledged ID: what the client printed. {@code epoch} is "-" in the fallback. */
    record Ack(int client, String id, long number, String mode, String epoch) {}

    private final List<Process> processes = new ArrayList<>();
    private final List<Thread> readers = new ArrayList<>();
    private final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicInteger count = new AtomicInteger();

    private ReservingClients() {}

    /** Starts {@code n} clients reserving {@code prefix} IDs, at most {@code max} each. */
    static ReservingClients start(int n, Path stateDir, String prefix, long max, boolean fallback) {
        ReservingClients clients = new ReservingClients();
        try {
            for (int i = 0; i < n; i++) {
                clients.launch(
                        i,
                        List.of(
                                Processes.java(),
                                "-XX:TieredStopAtLevel=1",
                                "-XX:+UseSerialGC",
                                "-Xshare:auto",
                                "-Xmx32m",
                                "-Xss512k",
                                "-cp",
                                Processes.testClassPath(),
                                ReservingClient.class.getName(),
                                stateDir.toString(),
                                prefix,
                                Long.toString(max),
                                fallback ? "fallback" : "no-fallback"));
            }
        } catch (RuntimeException e) {
            clients.close();
            throw e;
        }
        return clients;
    }

    private void launch(int index, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove("TASKID_DIR");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        processes.add(p);
        Thread reader = new Thread(() -> read(index, p), "client-" + index);
        reader.setDaemon(true);
        reader.start();
        readers.add(reader);
    }

    private void read(int index, Process p) {
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("! ")) {
                    failures.add("client " + index + ": " + line.substring(2));
                    continue;
                }
                String[] f = line.split(" ");
                acks.add(new Ack(index, f[0], Long.parseLong(f[1]), f[2], f[3]));
                count.incrementAndGet();
            }
        } catch (IOException ignored) {
            // the process is gone: what it printed before is all it acknowledged
        }
    }

    int count() {
        return count.get();
    }

    long count(Predicate<Ack> which) {
        return acks.stream().filter(which).count();
    }

    /** Whether every client has acknowledged at least one ID. */
    boolean allStarted() {
        return acks.stream().mapToInt(Ack::client).distinct().count() == processes.size();
    }

    /** Tells every client to stop (closes its stdin) and waits until all have exited and been read. */
    List<Ack> finish() {
        for (Process p : processes) {
            try {
                p.getOutputStream().close();
            } catch (IOException ignored) {
                // already gone
            }
        }
        await().atMost(EXIT_TIMEOUT)
                .until(() -> processes.stream().noneMatch(Process::isAlive)
                        && readers.stream().noneMatch(Thread::isAlive));
        return List.copyOf(acks);
    }

    List<String> failures() {
        return List.copyOf(failures);
    }

    /** Kills whatever still runs, by pid: no test leaves a client behind. */
    @Override
    public void close() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
    }
}
