package dev.taskid.cli;

import java.nio.file.Path;

/**
 * The launcher's training run for the CLI's start-up archive (AppCDS on JDK 17/18, the AOT
 * cache on 25+): one JVM that takes the paths real calls take, so that the archive holds their
 * classes. First a reservation through a daemon (the launcher starts one on {@code DIR/daemon}
 * before this runs; without one, that call falls back), then one under the file lock in
 * {@code DIR/files}, then a read. Trained on the file lock alone, the archive lacked the ~135
 * classes of a call through a daemon (docs/BENCHMARKS.md, "CLI start-up, session 5").
 *
 * <p>Not a command: {@code java -Dtaskid.archiveTraining=DIR -jar taskid-cli.jar} (through the
 * jar, for its manifest's Add-Exports, as a call has them), with stdout and stderr sent nowhere
 * by the launcher.
 */
final class ArchiveTraining {
    /** The system property that makes {@link Main} run this instead of a command. */
    static final String PROPERTY = "taskid.archiveTraining";

    private ArchiveTraining() {}

    /** Runs the training calls; returns 0 if each succeeded, else 1 (then the launcher keeps no archive). */
    static int run(Path dir) {
        String daemon = dir.resolve("daemon").toString();
        String files = dir.resolve("files").toString();
        int failed = 0;
        for (String[] call : new String[][] {
            {"--dir", daemon, "reserve", "SEC"},
            {"--dir", files, "reserve", "SEC", "3"},
            {"--dir", files, "show"},
        }) {
            if (Main.call(call) != 0) {
                failed++;
            }
        }
        return failed == 0 ? 0 : 1;
    }
}
