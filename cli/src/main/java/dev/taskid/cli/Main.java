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
        if (training != null) {
            ArchiveTraining.main(new String[] {training});
        }
        System.exit(call(args));
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
