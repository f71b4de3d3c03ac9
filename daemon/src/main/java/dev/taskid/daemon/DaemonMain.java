package dev.taskid.daemon;

import ch.qos.logback.classic.LoggerContext;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.server.Fatal;
import dev.taskid.server.SocketServer;
import dev.taskid.state.StateDir;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code taskid daemon [--dir PATH]}: runs in the foreground until SIGTERM or SIGINT, then
 * shuts down cleanly and exits 0. Tuning (system properties): taskid.maxConnections (1024),
 * taskid.idleSeconds (300), taskid.maxInFlight (8192).
 */
public final class DaemonMain {
    private static final Logger log = LoggerFactory.getLogger(DaemonMain.class);

    private DaemonMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        String dirOption = System.getenv("TASKID_DIR");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--dir") && i + 1 < args.length) {
                dirOption = args[++i];
            } else if (args[i].startsWith("--dir=")) {
                dirOption = args[i].substring("--dir=".length());
            } else if (args[i].equals("--help") || args[i].equals("-h")) {
                System.out.println("usage: taskid daemon [--dir PATH]   (runs in the foreground; logs to stderr)");
                return;
            } else {
                System.err.println("taskid daemon: unknown argument " + args[i] + " (usage: taskid daemon [--dir PATH])");
                System.exit(2);
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
            daemon = Daemon.start(dir, settings, System.getenv());
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
            // A clean stop on SIGTERM is a success, not "killed by signal" (143).
            Runtime.getRuntime().halt(0);
        }, "taskid-shutdown"));
        stopped.await();
    }

    private static void stopLogging() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }
}
