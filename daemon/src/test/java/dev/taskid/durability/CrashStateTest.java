package dev.taskid.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.client.TaskIds;
import dev.taskid.durability.Recording.Op;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.FsyncShim;
import dev.taskid.testing.Processes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Crash states, in the spirit of ALICE (Pillai et al., OSDI 2014): real fallback writers (CLI
 * processes in file-lock mode) and a real daemon reserve IDs under strace; {@link CrashModel}
 * replays what they did to the state directory and lists every content a crash after each step
 * may leave; the real CLI is then started on each distinct one. The oracle, for a crash after
 * step k, with A the IDs that left a process (daemon socket, CLI stdout) up to step k:
 * <ul>
 * <li>once taskid loaded the state, every ID in A has its audit line in audit.log (the fallback
 * answers after the audit fsync; the daemon after the lines are in counters.json and written
 * to audit.log, and syncs them before its next rename; a load appends the lines counters.json
 * carries when audit.log lacks them);</li>
 * <li>taskid loads the state: never STATE_CORRUPT, since counters.json is replaced atomically
 * and durably (old or new content, never an empty or torn file); should it say STATE_CORRUPT,
 * {@code taskid recover --yes} must work;</li>
 * <li>the next reservation hands out no ID of A.</li>
 * </ul>
 * kill -9 keeps the page cache, so only a model of what the disk holds can see a missing fsync:
 * the second test drops each fsync in turn (an LD_PRELOAD shim) and shows the checker fails.
 */
class CrashStateTest {
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path tmp;

    /**
     * The state directory's files when the recording started (durable), the IDs acknowledged
     * before it, what the processes did, and the IDs the clients got (to check that the
     * recording saw every acknowledgement).
     */
    private record Run(
            Map<String, byte[]> before,
            Set<String> ackedBefore,
            List<Op> ops,
            Set<String> clientIds,
            Map<String, List<String>> keyed) {}

    /** One distinct crash state: the files, and what was acknowledged by the latest step that may leave it. */
    private record Candidate(Map<String, byte[]> files, Set<String> acked, int step, Map<String, List<String>> keyed) {}

    /** What the checker found: distinct states, those started, and each broken rule. */
    private record Verdict(int steps, int distinct, int started, int corrupt, List<String> violations) {
        /** How many states broke each rule. */
        Map<String, Long> kinds() {
            return violations.stream()
                    .collect(java.util.stream.Collectors.groupingBy(
                            v -> v.substring(1, v.indexOf(']')),
                            java.util.TreeMap::new,
                            java.util.stream.Collectors.counting()));
        }
    }

    @Test
    void everyCrashStateOfFallbackWritersAndADaemonLoadsAndReissuesNothing() throws Exception {
        Run run = record(Map.of(), true, false);
        Verdict v = check(run, false);
        System.out.printf(
                "crash states: %d steps, %d distinct states, %d started, %d STATE_CORRUPT, %d acknowledged IDs;"
                        + " broken rules: %s%n",
                v.steps(),
                v.distinct(),
                v.started(),
                v.corrupt(),
                run.clientIds().size(),
                v.kinds());
        assertEquals(List.of(), v.violations(), "crash states that break a rule");
        assertTrue(v.distinct() >= 20, "too few crash states to prove anything: " + v);
        // The daemon's reuse of the inodes it replaced (TmpSlots) is among the recorded steps:
        // the link that keeps the replaced counters.json, and a temporary file written in place.
        assertTrue(run.ops().stream().anyMatch(o -> o instanceof Op.Link), "no link recorded");
        assertTrue(
                run.ops().stream()
                        .anyMatch(o -> o instanceof Op.Open open
                                && !open.create()
                                && open.name().startsWith("counters.json.")
                                && open.name().endsWith(".tmp")),
                "no temporary file reused");
    }

    /**
     * The experiment of issue 10 item 15, kept: with the fsync of the counters tmp file, of the
     * state directory or of the audit log dropped (the shim returns 0 without syncing, as a
     * deleted force() would), the checker finds the rule each one keeps broken. The recording
     * starts from a state in use, so that the directory's fsyncs are those after the renames
     * (audit.log exists, its append needs none).
     */
    @ParameterizedTest
    @ValueSource(strings = {"tmp", "dir", "audit"})
    void theCheckerFailsWhenAForceIsRemoved(String which) throws Exception {
        FsyncShim shim = FsyncShim.compile(Files.createDirectories(tmp.resolve("shim")));
        String regex = switch (which) {
            case "tmp" -> "counters\\.json[^/]*tmp[^/]*$";
            case "dir" -> FsyncShim.exactly(state());
            default -> "/audit\\.log$";
        };
        Run run = record(shim.drop(regex), false, true);
        assertTrue(
                shim.calls().stream().anyMatch(l -> l.endsWith(" dropped")),
                "the shim dropped nothing: " + shim.calls());
        Verdict v = check(run, true);
        System.out.printf("without the %s fsync: %s; first: %s%n", which, v.kinds(), v.violations());
        String broken = switch (which) {
            case "tmp" -> "STATE_CORRUPT"; // the rename survives, the data does not: an empty counters.json
            // The rename is lost, the audit line is not: the counter goes back. The high-water
            // check (issue 10 item 6) now refuses that state (STATE_CORRUPT) where it would have
            // reissued; either way the checker sees the broken rule.
            case "dir" -> v.kinds().containsKey("reissued") ? "reissued" : "STATE_CORRUPT";
            default -> "no audit line"; // counters.json holds, the acknowledged IDs' lines do not
        };
        assertTrue(v.kinds().containsKey(broken), "the checker missed a removed fsync (" + which + "): " + v);
    }

    // ------------------------------------------------------------------ recording

    private Path state() {
        return tmp.resolve("repo").resolve("state");
    }

    /**
     * Under load, recorded: three CLI writers at once in file-lock mode (the first one creates
     * the state unless {@code inUse}: then one unrecorded writer did), then (if {@code daemon}) a
     * daemon with three clients reserving at once (group commits), stopped with SIGTERM, then two
     * more CLI writers.
     */
    private Run record(Map<String, String> env, boolean daemon, boolean inUse) throws Exception {
        Assumptions.assumeTrue(
                Processes.onPath("strace").isPresent(), "skipped: strace is not on PATH (apt-get install strace)");
        Path dir = Files.createDirectories(state().getParent());
        Files.createDirectory(
                state(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Set<String> ackedBefore = new LinkedHashSet<>();
        if (inUse) {
            Processes.Result r = Processes.run(
                    Processes.taskid("--dir", state().toString(), "reserve", "SEC", "2"), dir, Map.of(), CALL_TIMEOUT);
            assertEquals(0, r.status(), r.toString());
            ackedBefore.addAll(Recording.ids(r.stdout()));
        }
        Map<String, byte[]> before = new java.util.TreeMap<>();
        try (var files = Files.list(state())) {
            for (Path f : files.toList()) {
                before.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        List<Path> logs = Collections.synchronizedList(new ArrayList<>());
        Set<String> clientIds = Collections.synchronizedSet(new LinkedHashSet<>());
        Map<String, List<String>> keyed = new java.util.concurrent.ConcurrentHashMap<>();
        AtomicInteger n = new AtomicInteger();
        cliWriters(3, env, dir, logs, clientIds, n);
        if (daemon) {
            Path log = tmp.resolve("trace-daemon");
            logs.add(log);
            try (DaemonProcess d = DaemonProcess.start(state(), env, List.of(), cmd -> Recording.command(log, cmd))) {
                List<CompletableFuture<Void>> clients = new ArrayList<>();
                for (int c = 0; c < 3; c++) {
                    int client = c;
                    clients.add(CompletableFuture.runAsync(() -> {
                        try (TaskIds ids = TaskIds.open(StateDir.of(state()), d.clientOptions())) {
                            for (int i = 1; i <= 3; i++) {
                                // One keyed reservation: its key line is appended unsynced (each
                                // more multiplies the crash states by keys.log's possible contents).
                                String key = client == 1 && i == 2 ? "k1-2" : null;
                                Response r = ids.call(new Request.Reserve(null, "SEC", i, "crash test", null, key))
                                        .response();
                                List<String> got = ((Response.Reserved) r).ids();
                                clientIds.addAll(got);
                                if (key != null) {
                                    keyed.put(key, got);
                                }
                            }
                        }
                    }));
                }
                CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new))
                        .get();
                // strace detaches on SIGTERM, so the daemon (its child) is stopped by its own pid.
                d.process().toHandle().children().forEach(ProcessHandle::destroy);
                assertEquals(0, d.awaitExit(), d.log());
            }
        }
        cliWriters(2, env, dir, logs, clientIds, n);
        return new Run(
                before,
                Set.copyOf(ackedBefore),
                Recording.parse(state(), logs),
                Set.copyOf(clientIds),
                Map.copyOf(keyed));
    }

    private void cliWriters(
            int count, Map<String, String> env, Path dir, List<Path> logs, Set<String> clientIds, AtomicInteger n) {
        List<CompletableFuture<Void>> writers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Path log = tmp.resolve("trace-cli-" + n.incrementAndGet());
            logs.add(log);
            writers.add(CompletableFuture.runAsync(() -> {
                Processes.Result r = Processes.run(
                        Recording.command(log, Processes.taskid("--dir", state().toString(), "reserve", "SEC", "2")),
                        dir,
                        env,
                        CALL_TIMEOUT);
                assertEquals(0, r.status(), r.toString());
                clientIds.addAll(Recording.ids(r.stdout()));
            }));
        }
        CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).join();
    }

    // ------------------------------------------------------------------ checking

    private Verdict check(Run run, boolean stopAtFirst) throws Exception {
        CrashModel model = new CrashModel(run.before());
        Set<String> acked = new LinkedHashSet<>(run.ackedBefore());
        Map<String, Candidate> distinct = new LinkedHashMap<>();
        List<Op> ops = run.ops();
        for (int step = -1; step < ops.size(); step++) {
            if (step >= 0) {
                if (ops.get(step) instanceof Op.Ack a) {
                    acked.addAll(a.ids());
                }
                model.apply(ops.get(step));
            }
            for (Map<String, byte[]> files : model.crashStates()) {
                // The lock file's note only names its last holder for people (LOCK_TIMEOUT); taskid
                // decides nothing by it. Emptied, it no longer multiplies the states by 8.
                files.computeIfPresent("lock", (name, note) -> new byte[0]);
                // The latest step wins: it may leave the same files with more acknowledged.
                distinct.put(key(files), new Candidate(files, Set.copyOf(acked), step, run.keyed()));
            }
        }
        assertTrue(
                acked.containsAll(run.clientIds()),
                "acknowledgements the recording missed: " + run.clientIds() + " vs " + acked);
        List<String> violations = Collections.synchronizedList(new ArrayList<>());
        List<Candidate> candidates = new ArrayList<>(distinct.values());
        AtomicInteger started = new AtomicInteger();
        AtomicInteger corrupt = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(2); // 2 cores, shared
        try {
            List<CompletableFuture<Void>> runs = new ArrayList<>();
            for (int i = 0; i < candidates.size(); i++) {
                Candidate c = candidates.get(i);
                Path dir = tmp.resolve("crash").resolve(Integer.toString(i));
                runs.add(CompletableFuture.runAsync(
                        () -> {
                            if (stopAtFirst && !violations.isEmpty()) {
                                return;
                            }
                            started.incrementAndGet();
                            startOn(dir, c, ops, violations, corrupt);
                        },
                        pool));
            }
            CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).join();
        } finally {
            pool.shutdownNow();
        }
        return new Verdict(ops.size(), candidates.size(), started.get(), corrupt.get(), List.copyOf(violations));
    }

    /** Starts the real CLI on the crash state {@code c}, written to {@code dir}; adds what it breaks. */
    private static void startOn(Path dir, Candidate c, List<Op> ops, List<String> violations, AtomicInteger corrupt) {
        Path state = dir.resolve("state");
        try {
            Files.createDirectories(dir);
            Files.createDirectory(
                    state, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            for (Map.Entry<String, byte[]> f : c.files().entrySet()) {
                Files.write(state.resolve(f.getKey()), f.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Processes.Result r = taskid(dir, "reserve", "SEC", "1");
        if (r.status() == 5 && r.stderr().contains("STATE_CORRUPT")) {
            corrupt.incrementAndGet();
            violations.add(
                    "[STATE_CORRUPT] " + where(ops, c) + ": " + r.stderr().strip());
            Processes.Result recovered = taskid(dir, "recover", "--yes");
            if (recovered.status() != 0) {
                violations.add("[recover failed] " + where(ops, c) + ": " + recovered);
                return;
            }
            r = taskid(dir, "reserve", "SEC", "1");
        }
        if (r.status() != 0) {
            violations.add("[does not load] " + where(ops, c) + ": " + r);
            return;
        }
        // After the crash and the next load (which appends the audit lines counters.json carries
        // when audit.log lacks them), every acknowledged ID has its line.
        List<String> missing = new ArrayList<>(c.acked());
        missing.removeAll(auditIds(state));
        if (!missing.isEmpty()) {
            violations.add("[no audit line] " + where(ops, c) + ": acknowledged IDs without an audit line: " + missing);
        }
        // Every acknowledged idempotency key is in keys.log after the load (the daemon appends
        // key lines unsynced; the load restores them from the audit lines counters.json carries).
        Map<String, String> keys = validKeyLines(state);
        c.keyed().forEach((key, ids) -> {
            if (c.acked().containsAll(ids)) {
                String line = keys.get(key);
                if (line == null || !sameReservation(line, ids)) {
                    violations.add("[key lost] " + where(ops, c) + ": key " + key + " of " + ids
                            + " acknowledged, keys.log has " + line);
                }
            }
        });
        for (String id : Recording.ids(r.stdout())) {
            if (c.acked().contains(id)) {
                violations.add("[reissued] " + where(ops, c) + ": " + id
                        + " handed out again (acknowledged before the crash); " + "counters.json was "
                        + text(c.files().get("counters.json")));
            }
        }
    }

    private static final java.util.regex.Pattern GEN = java.util.regex.Pattern.compile("\"gen\":(\\d+)");

    /** keys.log's lines a load reads (up to the first torn one or one newer than counters.json), by key; the latest wins. */
    private static Map<String, String> validKeyLines(Path state) {
        Map<String, String> out = new HashMap<>();
        try {
            java.util.regex.Matcher g = GEN.matcher(Files.readString(state.resolve("counters.json")));
            long durable = g.find() ? Long.parseLong(g.group(1)) : 0;
            Path log = state.resolve("keys.log");
            if (!Files.exists(log)) {
                return out;
            }
            String text = Files.readString(log, StandardCharsets.UTF_8);
            int end = text.lastIndexOf('\n') + 1;
            for (String line : text.substring(0, end).split("\n")) {
                java.util.regex.Matcher m = GEN.matcher(line);
                java.util.regex.Matcher k =
                        java.util.regex.Pattern.compile("\"key\":\"([^\"]*)\"").matcher(line);
                if (!m.find() || Long.parseLong(m.group(1)) > durable || !k.find()) {
                    break;
                }
                out.put(k.group(1), line);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Whether a keys.log line names the reservation of {@code ids} (SEC-n .. SEC-m). */
    private static boolean sameReservation(String line, List<String> ids) {
        return line.contains("\"first\":" + ids.get(0).substring("SEC-".length()) + ",")
                && line.contains("\"count\":" + ids.size() + ",");
    }

    private static Processes.Result taskid(Path dir, String... args) {
        List<String> command =
                new ArrayList<>(List.of("--dir", dir.resolve("state").toString()));
        command.addAll(List.of(args));
        return Processes.run(Processes.taskid(command.toArray(String[]::new)), dir, Map.of(), CALL_TIMEOUT);
    }

    /** The IDs in the audit lines of a state directory (current and rotated logs). */
    private static Set<String> auditIds(Path state) {
        Set<String> out = new LinkedHashSet<>();
        try (java.util.stream.Stream<Path> files = Files.list(state)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (f.getFileName().toString().startsWith("audit.log")) {
                    out.addAll(Recording.ids(Files.readString(f, StandardCharsets.UTF_8)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static String where(List<Op> ops, Candidate c) {
        String after = c.step() < 0 ? "before any step" : "after step " + c.step() + " " + describe(ops.get(c.step()));
        Map<String, Integer> sizes = new HashMap<>();
        c.files().forEach((name, bytes) -> sizes.put(name, bytes.length));
        return "crash " + after + " (files and sizes " + sizes + ")";
    }

    private static String describe(Op op) {
        return op instanceof Op.Write w ? "Write[" + w.name() + ", " + w.bytes().length + " bytes]" : op.toString();
    }

    private static String text(byte[] bytes) {
        return bytes == null ? "missing" : new String(bytes, StandardCharsets.UTF_8).replaceAll("\\s+", " ");
    }

    private static String key(Map<String, byte[]> files) {
        StringBuilder b = new StringBuilder();
        files.forEach((name, bytes) -> b.append(name)
                .append('\0')
                .append(new String(bytes, StandardCharsets.ISO_8859_1))
                .append('\0'));
        return b.toString();
    }
}
