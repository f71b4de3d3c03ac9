package dev.taskid.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Entry point of the {@code taskid} command. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        // The launcher's training run for the start-up archive comes in through the jar too, so
        // that it runs with the manifest's Add-Exports, as every call does: the same flags on
        // the command line would make JDK 25 refuse the AOT cache (module options must match).
        String training = System.getProperty(ArchiveTraining.PROPERTY);
        end(training != null ? ArchiveTraining.run(Path.of(training)) : call(args));
    }

    /**
     * Success, with nothing else keeping the JVM alive, returns: the JVM then ends with status
     * 0 as System.exit(0) would end it, but without the exit logging of JDK 21+ (Runtime.exit
     * asks System.getLogger whether to log, which sets up the platform's logging and searches
     * the class path for a LoggerFinder: ~20 ms of CPU per call on JDK 25; docs/BENCHMARKS.md,
     * "CLI start-up, session 6"). Anything else exits.
     */
    private static void end(int status) {
        if (status != 0 || otherThreadsKeepTheJvmAlive()) {
            System.exit(status);
        }
    }

    /** A live non-daemon thread besides this one (then returning from main would wait for it). */
    private static boolean otherThreadsKeepTheJvmAlive() {
        Thread self = Thread.currentThread();
        Thread[] threads = new Thread[Thread.activeCount() + 16];
        int n = Thread.enumerate(threads);
        if (n == threads.length) {
            return true; // more than we could see: do not guess
        }
        for (int i = 0; i < n; i++) {
            if (threads[i] != self && !threads[i].isDaemon() && threads[i].isAlive()) {
                return true;
            }
        }
        return false;
    }

    /** One call of the command line, as {@code main} runs it; returns its exit status. */
    static int call(String[] args) {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        int status = new Cli(out, err, System.in, Path.of("").toAbsolutePath(), System.getenv()).run(args);
        out.flush();
        err.flush();
        return status;
    }
}
