package dev.taskid.wrap;

import dev.taskid.client.TaskIds;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.StateDir;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One client of the churn test, run as its own process: for {@code millis} it reserves 1-4
 * numbers of a wrapped prefix, holds them for a while and archives some, and prints what the
 * state said: {@code R previous counter numbers...}, {@code A counter numbers...}, {@code C}
 * (NUMBER_CONFLICT) or {@code E problem}. Counters are positions, so the lines of all clients
 * can be put in the order the state applied them ({@link #check}).
 *
 * <p>usage: WrapChurn STATE_DIR PREFIX SEED MILLIS [--no-fallback]
 */
public final class WrapChurn {
    private WrapChurn() {}

    public static void main(String[] args) {
        StateDir dir = StateDir.of(Path.of(args[0]));
        String prefix = args[1];
        Random random = new Random(Long.parseLong(args[2]));
        long deadline = System.nanoTime() + Long.parseLong(args[3]) * 1_000_000L;
        boolean fallback = !(args.length > 4 && args[4].equals("--no-fallback"));
        StringBuilder out = new StringBuilder();
        List<Long> mine = new ArrayList<>();
        try (TaskIds ids = TaskIds.open(dir, TaskIds.Options.DEFAULT.withFallback(fallback))) {
            // At least a few calls however slow the machine: on a loaded 2-core host the first
            // call (class loading, lock) alone can outlast the time budget.
            int calls = 0;
            while (calls < 10 || System.nanoTime() < deadline) {
                calls++;
                Response r = ids.call(new Request.Reserve(null, prefix, 1 + random.nextInt(4), null, null, null))
                        .response();
                if (r instanceof Response.Reserved res) {
                    out.append("R ").append(res.previous()).append(' ').append(res.counter());
                    res.numbers().forEach(n -> out.append(' ').append(n));
                    out.append('\n');
                    mine.addAll(res.numbers());
                } else if (r instanceof Response.Failure f && f.code() == ErrorCode.NUMBER_CONFLICT) {
                    out.append("C\n");
                } else {
                    out.append("E reserve: ").append(r).append('\n');
                }
                if (!mine.isEmpty() && (random.nextInt(3) == 0 || r instanceof Response.Failure)) {
                    List<Long> give = new ArrayList<>(mine.subList(0, 1 + random.nextInt(mine.size())));
                    mine.removeAll(give);
                    Response a = ids.call(new Request.Archive(null, prefix, give, false))
                            .response();
                    if (a instanceof Response.Archived archived
                            && archived.unchanged().isEmpty()) {
                        out.append("A ").append(archived.counter());
                        archived.changed().forEach(n -> out.append(' ').append(n));
                        out.append('\n');
                    } else {
                        out.append("E archive ")
                                .append(give)
                                .append(": ")
                                .append(a)
                                .append('\n');
                    }
                }
            }
        } catch (RuntimeException e) {
            out.append("E ").append(e).append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }

    /** What the merged output of all clients shows. */
    public record Checked(List<String> problems, java.util.SortedSet<Long> active, int reservations, int conflicts) {}

    /**
     * Replays the clients' lines in the state's order and checks the invariant: a number is
     * never handed out while another (or the same) client holds it, and only its holder
     * archives it. An archive at counter c came after the reservation that ended at c and
     * before the one that started from c.
     */
    public static Checked check(List<String> outputs) {
        record Event(long key, int kind, int client, List<Long> numbers, String line) {}
        List<String> problems = new ArrayList<>();
        List<Event> events = new ArrayList<>();
        int conflicts = 0;
        for (int c = 0; c < outputs.size(); c++) {
            for (String line : outputs.get(c).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                String[] w = line.split(" ");
                List<Long> numbers = new ArrayList<>();
                switch (w[0]) {
                    case "R" -> {
                        for (int i = 3; i < w.length; i++) {
                            numbers.add(Long.parseLong(w[i]));
                        }
                        events.add(new Event(Long.parseLong(w[1]), 1, c, numbers, line));
                    }
                    case "A" -> {
                        for (int i = 2; i < w.length; i++) {
                            numbers.add(Long.parseLong(w[i]));
                        }
                        events.add(new Event(Long.parseLong(w[1]), 0, c, numbers, line));
                    }
                    case "C" -> conflicts++;
                    default -> problems.add("client " + c + ": " + line);
                }
            }
        }
        events.sort(java.util.Comparator.comparingLong(Event::key).thenComparingInt(Event::kind));
        java.util.TreeMap<Long, Integer> held = new java.util.TreeMap<>();
        int reservations = 0;
        long counter = -1;
        for (Event e : events) {
            if (e.kind() == 1) {
                reservations++;
                if (counter >= 0 && e.key() != counter) {
                    problems.add("positions not contiguous: counter " + counter + " then " + e.line());
                }
                counter = e.key() + e.numbers().size();
                for (Long n : e.numbers()) {
                    Integer other = held.put(n, e.client());
                    if (other != null) {
                        problems.add("number " + n + " handed to client " + e.client() + " while client " + other
                                + " holds it (" + e.line() + ")");
                    }
                }
            } else {
                for (Long n : e.numbers()) {
                    Integer holder = held.remove(n);
                    if (holder == null || holder != e.client()) {
                        problems.add("client " + e.client() + " archived " + n + " held by " + holder);
                    }
                }
            }
        }
        return new Checked(problems, new java.util.TreeSet<>(held.keySet()), reservations, conflicts);
    }
}
