package dev.taskid.cli.admin;

import dev.taskid.cli.command.Context;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.StateFile;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code taskid stats --watch [--interval SECONDS]}: a live view for a person watching many
 * agents, refreshed every interval: per-prefix counters, reservations and IDs per second,
 * persist latency and connected clients from the daemon's stats op; without a daemon it says
 * so and shows the counters (read from counters.json: the view never takes the state lock).
 * 'q' or Ctrl-C ends it with the terminal restored. Under {@code --json}: one JSON object per
 * refresh on its own line, no screen control, until interrupted.
 */
final class StatsWatch {
    static final Duration MIN_INTERVAL = Duration.ofMillis(200);
    static final Duration MAX_INTERVAL = Duration.ofHours(1);

    private final Context c;
    private final Duration interval;
    private final Json codec;

    StatsWatch(Context c, Duration interval) {
        this.c = c;
        this.interval = interval;
        this.codec = c.output().codec();
    }

    /** {@code --interval}: seconds, fractions allowed, within the bounds. */
    static Duration interval(String text) {
        if (text == null) {
            return Duration.ofSeconds(2);
        }
        try {
            Duration d = Duration.ofMillis(Math.round(Double.parseDouble(text) * 1000));
            if (d.compareTo(MIN_INTERVAL) >= 0 && d.compareTo(MAX_INTERVAL) <= 0) {
                return d;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new UsageException("--interval takes seconds from 0.2 to 3600, got \"" + text + "\"");
    }

    int run() {
        TaskIds ids = c.ids();
        BlockingQueue<Integer> keys = new ArrayBlockingQueue<>(16);
        Optional<Terminal> terminal = c.json() ? Optional.empty() : Terminal.open(c.out());
        if (terminal.isPresent()) {
            readKeys(c.in(), keys);
        }
        try {
            WatchView.Snapshot start = null;
            WatchView.Snapshot previous = null;
            while (true) {
                WatchView.Snapshot now = snapshot(ids);
                start = start == null ? now : start;
                if (c.json()) {
                    c.output().object(WatchView.fields(previous, now));
                } else {
                    StringBuilder frame = new StringBuilder(terminal.isPresent() ? Terminal.HOME_AND_CLEAR : "\n");
                    WatchView.lines(start, previous, now, interval, terminal.isPresent())
                            .forEach(l -> frame.append(l).append('\n'));
                    c.out().print(frame);
                }
                c.out().flush();
                previous = now;
                Integer key = keys.poll(interval.toMillis(), TimeUnit.MILLISECONDS);
                if (key != null && (key == 'q' || key == 'Q')) {
                    return Context.OK;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Context.OK;
        } finally {
            terminal.ifPresent(Terminal::close);
        }
    }

    /** Keys as they are typed, on a daemon thread: the view waits for a key or the next refresh. */
    private static void readKeys(InputStream in, BlockingQueue<Integer> keys) {
        Thread reader = new Thread(
                () -> {
                    try {
                        for (int ch = in.read(); ch >= 0; ch = in.read()) {
                            keys.offer(ch); // a full queue drops keys: nobody types 16 keys between two refreshes
                        }
                    } catch (IOException e) {
                        // no more keys: Ctrl-C still ends the view
                    }
                },
                "taskid-keys");
        reader.setDaemon(true);
        reader.start();
    }

    private WatchView.Snapshot snapshot(TaskIds ids) {
        Map<String, Object> daemon = null;
        Map<String, Long> counters = new TreeMap<>();
        try {
            if (ids.daemon().isPresent()) {
                Reply stats = ids.call(new Request.Stats(null));
                if (stats.response() instanceof Response.Stats s) {
                    daemon = new LinkedHashMap<>(s.values());
                }
                Reply peek = ids.call(new Request.Peek(null, null));
                if (peek.response() instanceof Response.Counters r) {
                    counters.putAll(r.counters());
                }
            }
        } catch (TaskIdException e) {
            daemon = null; // gone between two refreshes: the file below
        }
        if (daemon == null) {
            // Read, not locked: a view must never make agents wait. Writers replace the file whole.
            try {
                new StateFile(ids.stateDir().counters(), codec, Clock.systemUTC())
                        .read()
                        .ifPresent(l -> counters.putAll(l.counters()));
            } catch (TaskIdException e) {
                counters.clear(); // unreadable: the view says it has no counters; doctor/recover say why
            }
        }
        return new WatchView.Snapshot(
                Instant.now(), System.nanoTime(), ids.stateDir().dir().toString(), counters, daemon);
    }
}
