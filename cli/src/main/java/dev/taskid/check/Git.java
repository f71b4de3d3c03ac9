package dev.taskid.check;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The few git commands the check needs, run as child processes (read-only: nothing is checked
 * out or changed). Fails with SYSTEM_ERROR when git is missing or refuses.
 */
final class Git {
    private static final long TIMEOUT_SECONDS = 60;
    /** Most output read from one git command (cat-file of every branch's task lists is the large one). */
    static final int MAX_OUTPUT_BYTES = 64 << 20;

    private final Path dir;

    Git(Path dir) {
        this.dir = dir;
    }

    /** True when {@code dir} is inside a git work tree. */
    boolean isRepository() {
        try {
            return new String(run(null, "rev-parse", "--is-inside-work-tree"), StandardCharsets.UTF_8)
                    .trim()
                    .equals("true");
        } catch (TaskIdException e) {
            return false;
        }
    }

    /** The root of the work tree {@code dir} is in. */
    Path topLevel() {
        return Path.of(text("rev-parse", "--show-toplevel").trim());
    }

    /** A path git knows, such as {@code hooks/pre-commit}, resolved like git does (core.hooksPath, worktrees). */
    Path gitPath(String name) {
        return dir.resolve(text("rev-parse", "--git-path", name).trim()).normalize();
    }

    /** Full names of the local branches, e.g. {@code refs/heads/main}. */
    List<String> branches() {
        List<String> out = new ArrayList<>();
        for (String line :
                text("for-each-ref", "--format=%(refname)", "refs/heads").split("\n")) {
            if (!line.isBlank()) {
                out.add(line.trim());
            }
        }
        return out;
    }

    /** A work tree from {@code git worktree list --porcelain}. */
    record Worktree(Path path, String branch, boolean bare) {}

    List<Worktree> worktrees() {
        List<Worktree> out = new ArrayList<>();
        Path path = null;
        String branch = null;
        boolean bare = false;
        for (String line : (text("worktree", "list", "--porcelain") + "\n").split("\n", -1)) {
            if (line.isEmpty()) {
                if (path != null) {
                    out.add(new Worktree(path, branch, bare));
                }
                path = null;
                branch = null;
                bare = false;
            } else if (line.startsWith("worktree ")) {
                path = Path.of(line.substring("worktree ".length()));
            } else if (line.startsWith("branch ")) {
                branch = line.substring("branch ".length());
            } else if (line.equals("bare")) {
                bare = true;
            }
        }
        return out;
    }

    /**
     * The contents of {@code REV:PATH} objects (like {@code git show REF:TASKS.md}) in one
     * {@code git cat-file --batch} process; a missing object maps to null.
     */
    Map<String, byte[]> show(List<String> objects) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        if (objects.isEmpty()) {
            return out;
        }
        StringBuilder input = new StringBuilder();
        for (String o : objects) {
            if (o.contains("\n")) {
                throw new IllegalArgumentException("object name with a newline: " + o);
            }
            input.append(o).append('\n');
        }
        byte[] raw = run(input.toString().getBytes(StandardCharsets.UTF_8), "cat-file", "--batch");
        int pos = 0;
        for (String o : objects) {
            int nl = indexOf(raw, (byte) '\n', pos);
            if (nl < 0) {
                throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "git cat-file --batch: short answer for " + o);
            }
            String header = new String(raw, pos, nl - pos, StandardCharsets.UTF_8);
            pos = nl + 1;
            String[] parts = header.split(" ");
            if (parts.length == 3 && !parts[1].equals("missing")) {
                int size = Integer.parseInt(parts[2]);
                byte[] content = java.util.Arrays.copyOfRange(raw, pos, pos + size);
                pos += size + 1; // the content is followed by a newline
                out.put(o, parts[1].equals("blob") ? content : null);
            } else {
                out.put(o, null);
            }
        }
        return out;
    }

    private static int indexOf(byte[] a, byte b, int from) {
        for (int i = from; i < a.length; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private String text(String... args) {
        return new String(run(null, args), StandardCharsets.UTF_8);
    }

    private byte[] run(byte[] stdin, String... args) {
        List<String> command = new ArrayList<>();
        command.add("git");
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot run git (is it installed?): " + e.getMessage());
        }
        CompletableFuture<byte[]> out = drain(p.getInputStream());
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin);
            }
        } catch (IOException e) {
            // git exited early; its status and stderr say why
        }
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new TaskIdException(
                        ErrorCode.SYSTEM_ERROR,
                        "git " + String.join(" ", args) + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "interrupted while running git");
        }
        byte[] output = out.join();
        if (output.length > MAX_OUTPUT_BYTES) {
            // (checked first: git fails once the drain stops reading)
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "git " + String.join(" ", args) + " wrote more than " + (MAX_OUTPUT_BYTES >> 20) + " MiB in " + dir
                            + ": too much to check at once (fewer files, or without all refs)");
        }
        if (p.exitValue() != 0) {
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "git " + String.join(" ", args) + " failed in " + dir + ": "
                            + new String(err.join(), StandardCharsets.UTF_8).trim());
        }
        return output;
    }

    /** All of {@code in}, up to one byte more than {@link #MAX_OUTPUT_BYTES}: memory stays bounded. */
    private static CompletableFuture<byte[]> drain(InputStream in) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        Thread t = new Thread(
                () -> {
                    try (in) {
                        f.complete(in.readNBytes(MAX_OUTPUT_BYTES + 1));
                    } catch (IOException e) {
                        f.complete(new byte[0]);
                    }
                },
                "git-drain");
        t.setDaemon(true);
        t.start();
        return f;
    }
}
