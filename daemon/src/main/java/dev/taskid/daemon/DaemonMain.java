package dev.taskid.daemon;

import ch.qos.logback.classic.LoggerContext;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.server.Fatal;
import dev.taskid.server.SocketServer;
import dev.taskid.state.StateDir;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code taskid daemon [--dir PATH] [--lock-timeout MS]}: runs in the foreground until SIGTERM
 * or SIGINT, then shuts down cleanly and exits 0; exits non-zero when it cannot go on (its
 * state directory removed or replaced: STATE_MOVED's status). Tuning (system properties):
 * taskid.maxConnections (1024), taskid.idleSeconds (300), taskid.maxInFlight (8192),
 * taskid.stopWaitSeconds (30: how long a stop waits for the state thread before halting),
 * taskid.stateWatchMillis (1000: how often it checks that its state directory is still there).
 */
public final class DaemonMain {
    private static final Logger log = LoggerFactory.getLogger(DaemonMain.class);

    private DaemonMain() {
    }

    private static final String USAGE = "usage: taskid daemon [--dir PATH] [--lock-timeout MS]";

    public static void main(String[] args) throws InterruptedException {
        String dirOption = System.getenv("TASKID_DIR");
        Optional<Duration> lockTimeout = Optional.empty();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            boolean takesValue = name.equals("--dir") || name.equals("--lock-timeout");
            String value = !takesValue ? null : a.contains("=") ? a.substring(a.indexOf('=') + 1)
                    : i + 1 < args.length ? args[++i] : null;
            if (takesValue && value == null) {
                usageError(name + " needs a value");
            } else if (name.equals("--dir")) {
                dirOption = value;
            } else if (name.equals("--lock-timeout")) {
                try {
                    long ms = Long.parseLong(value);
                    if (ms < 0) {
                        throw new NumberFormatException();
                    }
                    lockTimeout = Optional.of(Duration.ofMillis(ms));
                } catch (NumberFormatException e) {
                    usageError("--lock-timeout takes milliseconds (a whole number, 0 or more), not " + value);
                }
            } else if (a.equals("--help") || a.equals("-h")) {
                System.out.println(USAGE + "   (runs in the foreground; logs to stderr)");
                return;
            } else {
                usageError("unknown argument " + a);
            }
        }
        // A thread the daemon needs that dies of an Error must not leave a process holding the lock.
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            if (e instanceof Error) {
                Fatal.halt(thread.getName(), e);
            }
            log.error("uncaught on {}", thread.getName(), e);
        });
        StateDir dir = StateDir.locate(Path.of("").toAbsolutePath(), dirOption);
        SocketServer.Settings settings = new SocketServer.Settings(
                Integer.getInteger("taskid.maxConnections", 1024),
                Duration.ofSeconds(Long.getLong("taskid.idleSeconds", 300)),
                Integer.getInteger("taskid.maxInFlight", 8192));
        Daemon daemon;
        try {
            daemon = Daemon.start(dir, settings, System.getenv(), new Daemon.Options(lockTimeout,
                            Duration.ofSeconds(Long.getLong("taskid.stopWaitSeconds", 30)),
                            Duration.ofMillis(Long.getLong("taskid.stateWatchMillis", 1000))),
                    new Daemon.Ending(status -> new Thread(() -> System.exit(status), "taskid-exit").start(),
                            status -> {
                                stopLogging();
                                Runtime.getRuntime().halt(status);
                            }));
        } catch (TaskIdException e) {
            log.error("cannot start: {}: {}", e.code(), e.getMessage());
            stopLogging();
            System.exit(e.code().exitStatus());
            return;
        } catch (RuntimeException e) {
            log.error("cannot start", e);
            stopLogging();
            System.exit(6);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            daemon.close();
            stopLogging();
            stopped.countDown();
            // A clean stop on SIGTERM is a success, not "killed by signal" (143); a daemon that
            // stopped because it could not go on says so.
            Runtime.getRuntime().halt(daemon.exitStatus());
        }, "taskid-shutdown"));
        stopped.await();
    }

    private static void usageError(String message) {
        System.err.println("taskid daemon: " + message + " (" + USAGE + ")");
        System.exit(2);
    }

    private static void stopLogging() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }
}
