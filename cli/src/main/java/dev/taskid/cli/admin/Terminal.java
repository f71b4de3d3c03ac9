package dev.taskid.cli.admin;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The terminal of a live view: keys without Enter and no echo (stty -icanon -echo; Ctrl-C still
 * signals), the alternate screen with the cursor hidden, and everything put back on close,
 * on 'q' and on Ctrl-C alike (close runs from a shutdown hook too, and only once).
 */
final class Terminal implements AutoCloseable {
    private static final String ALTERNATE_SCREEN = "\033[?1049h\033[?25l";
    private static final String MAIN_SCREEN = "\033[?25h\033[?1049l";
    static final String HOME_AND_CLEAR = "\033[H\033[2J";

    private final PrintStream out;
    private final String saved;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread hook = new Thread(this::close, "taskid-terminal-restore");

    private Terminal(PrintStream out, String saved) {
        this.out = out;
        this.saved = saved;
    }

    /** The terminal on stdin, set up for a live view; empty when stdin is not a terminal. */
    static Optional<Terminal> open(PrintStream out) {
        Optional<String> saved = stty("-g");
        if (saved.isEmpty() || stty("-icanon", "-echo", "min", "1").isEmpty()) {
            return Optional.empty();
        }
        Terminal t = new Terminal(out, saved.get().trim());
        Runtime.getRuntime().addShutdownHook(t.hook);
        out.print(ALTERNATE_SCREEN);
        out.flush();
        return Optional.of(t);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        out.print(MAIN_SCREEN);
        out.flush();
        stty(saved);
        if (Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down already: the hook is running or has run
            }
        }
    }

    /** Runs stty on our stdin; its output, or empty when it failed (stdin is not a terminal). */
    private static Optional<String> stty(String... args) {
        List<String> command = new ArrayList<>(List.of("stty"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.INHERIT)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.empty();
            }
            return p.exitValue() == 0 ? Optional.of(output) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
