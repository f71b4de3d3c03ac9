package dev.taskid.durability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What real processes did to one state directory, read back from {@code strace} logs: the
 * file-system operations on the directory and its files, and the moments IDs left a process
 * (acknowledged). Processes are recorded under {@link #command}, one log each; the logs are
 * merged by the syscalls' start times. That order is the real one for the state files because
 * their writers are serialized by the state lock, which is taken only after the previous
 * holder's calls returned.
 */
final class Recording {
    /** The syscalls traced; any of them on a state path that {@link #parse} does not model fails the run. */
    private static final String TRACED = "open,openat,creat,write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync,"
            + "sync_file_range,sync,syncfs,rename,renameat,renameat2,unlink,unlinkat,ftruncate,truncate,mkdir,mkdirat,"
            + "link,linkat,symlink,symlinkat,sendmsg,sendto";

    private static final Pattern LINE = Pattern.compile("^(\\d+)\\s+(\\d+)\\.(\\d{6})\\s+(.*)$");
    private static final Pattern STRING = Pattern.compile("\"((?:\\\\x[0-9a-f]{2})*)\"");
    private static final Pattern FD = Pattern.compile("^(\\d+|AT_FDCWD)<([^>]*)>");
    private static final Pattern RESULT = Pattern.compile("\\) = (-?\\d+)(?:<([^>]*)>)?");
    private static final Pattern IDS = Pattern.compile("\"ids\":\\[([^\\]]*)\\]");
    private static final Pattern ID = Pattern.compile("[A-Z][A-Z0-9]*-\\d+");

    /** One step, in the order the kernel saw them. Names are file names inside the state dir; "." is the dir. */
    sealed interface Op {
        /** open(2) of a file: {@code create} when O_CREAT, {@code truncate} when O_TRUNC. */
        record Open(String name, boolean create, boolean truncate) implements Op {}

        /** Bytes written at {@code offset}, or at the descriptor's position when -1 ({@code write}). */
        record Write(String name, long offset, byte[] bytes) implements Op {}

        record Truncate(String name, long length) implements Op {}

        /** fsync/fdatasync of a file, or of the directory itself ({@code name} "."). */
        record Sync(String name) implements Op {}

        record Rename(String from, String to) implements Op {}

        record Unlink(String name) implements Op {}

        /** link(2): a second name {@code to} for the file named {@code from}. */
        record Link(String from, String to) implements Op {}

        /** IDs that left a process (a daemon's answer on its socket, a CLI's stdout). */
        record Ack(List<String> ids) implements Op {}
    }

    private Recording() {}

    /** {@code command} run under strace, logging to {@code log}. */
    static List<String> command(Path log, List<String> command) {
        List<String> out = new ArrayList<>(List.of(
                "strace",
                "-f",
                "--seccomp-bpf",
                "-qq",
                "-ttt",
                "-yy",
                "-xx",
                "-s",
                "1048576",
                "-e",
                "trace=" + TRACED,
                "-o",
                log.toString(),
                "--"));
        out.addAll(command);
        return out;
    }

    /** The operations on {@code stateDir} in all {@code logs}, merged in time order. */
    static List<Op> parse(Path stateDir, List<Path> logs) {
        record Timed(long micros, int seq, Op op) {}
        List<Timed> all = new ArrayList<>();
        int seq = 0;
        for (Path log : logs) {
            List<String> lines;
            try {
                lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Map<String, String> unfinished = new HashMap<>(); // pid -> start of its call
            Map<String, Long> started = new HashMap<>();
            for (String line : lines) {
                Matcher m = LINE.matcher(line);
                if (!m.matches()) {
                    continue;
                }
                String pid = m.group(1);
                long micros = Long.parseLong(m.group(2)) * 1_000_000 + Long.parseLong(m.group(3));
                String body = m.group(4);
                if (body.endsWith(" <unfinished ...>")) {
                    unfinished.put(pid, body.substring(0, body.length() - " <unfinished ...>".length()));
                    started.put(pid, micros);
                    continue;
                }
                if (body.startsWith("<... ")) {
                    String start = unfinished.remove(pid);
                    Long at = started.remove(pid);
                    if (start == null) {
                        continue;
                    }
                    body = start + body.substring(body.indexOf("resumed>") + "resumed>".length());
                    micros = at;
                }
                if (body.startsWith("+++") || body.startsWith("---")) {
                    continue;
                }
                for (Op op : decode(stateDir.toAbsolutePath().normalize(), body)) {
                    all.add(new Timed(micros, seq++, op));
                }
            }
        }
        all.sort(Comparator.comparingLong(Timed::micros).thenComparingInt(Timed::seq));
        return all.stream().map(Timed::op).toList();
    }

    /** The model's operations for one finished syscall (none when it touched no state file). */
    private static List<Op> decode(Path dir, String body) {
        int paren = body.indexOf('(');
        Matcher result = RESULT.matcher(body);
        Long ret = null;
        String retPath = null;
        int end = body.length();
        while (result.find()) { // the last ") = N" is the result
            ret = Long.parseLong(result.group(1));
            retPath = result.group(2);
            end = result.start();
        }
        if (paren < 0 || ret == null || ret < 0) {
            return List.of(); // failed calls change nothing
        }
        String call = body.substring(0, paren);
        String args = body.substring(paren + 1, end);
        List<String> strings = new ArrayList<>();
        Matcher s = STRING.matcher(args);
        while (s.find()) {
            strings.add(hex(s.group(1)));
        }
        Matcher fdm = FD.matcher(args);
        boolean hasFd = fdm.find();
        String fd = hasFd ? fdm.group(1) : null;
        String fdPath = hasFd ? unhexPath(fdm.group(2)) : null;
        switch (call) {
            case "write", "writev", "sendmsg", "sendto", "pwrite64", "pwritev", "pwritev2" -> {
                if ("1".equals(fd) || (fdPath != null && fdPath.startsWith("UNIX"))) {
                    List<String> ids = ids(String.join("", strings));
                    return ids.isEmpty() ? List.of() : List.of(new Op.Ack(ids));
                }
                String name = name(dir, fdPath);
                if (name == null) {
                    return List.of();
                }
                byte[] bytes = strings.get(0).substring(0, ret.intValue()).getBytes(StandardCharsets.ISO_8859_1);
                return switch (call) {
                    case "write" -> List.of(new Op.Write(name, -1, bytes));
                    case "pwrite64" -> List.of(new Op.Write(name, lastNumber(args), bytes));
                    default -> throw unmodeled(body);
                };
            }
            case "open", "openat", "creat" -> {
                String name = name(dir, unhexPath(retPath));
                if (name == null || name.equals(".")) {
                    return List.of();
                }
                boolean create = call.equals("creat") || args.contains("O_CREAT");
                boolean truncate = call.equals("creat") || args.contains("O_TRUNC");
                return List.of(new Op.Open(name, create, truncate));
            }
            case "fsync", "fdatasync" -> {
                String name = name(dir, fdPath);
                return name == null ? List.of() : List.of(new Op.Sync(name));
            }
            case "ftruncate" -> {
                String name = name(dir, fdPath);
                return name == null ? List.of() : List.of(new Op.Truncate(name, lastNumber(args)));
            }
            case "rename", "renameat", "renameat2" -> {
                String from = name(dir, resolve(fdPath, strings.get(0)));
                String to = name(dir, resolve(lastDir(args), strings.get(1)));
                if (from == null && to == null) {
                    return List.of();
                }
                if (from == null || to == null) {
                    throw unmodeled(body); // a rename into or out of the state dir
                }
                return List.of(new Op.Rename(from, to));
            }
            case "link", "linkat" -> {
                String from = name(dir, resolve(call.equals("link") ? null : fdPath, strings.get(0)));
                String to = name(dir, resolve(call.equals("link") ? null : lastDir(args), strings.get(1)));
                if (from == null && to == null) {
                    return List.of();
                }
                if (from == null || to == null) {
                    throw unmodeled(body); // a link into or out of the state dir
                }
                return List.of(new Op.Link(from, to));
            }
            case "unlink", "unlinkat" -> {
                String name = name(dir, resolve(fdPath, strings.get(0)));
                return name == null ? List.of() : List.of(new Op.Unlink(name));
            }
            default -> {
                // sync, syncfs, truncate, mkdir, symlink, sync_file_range: not used on
                // state files today; a change that starts using one must extend the model.
                for (String str : strings) {
                    if (name(dir, resolve(fdPath, str)) != null) {
                        throw unmodeled(body);
                    }
                }
                if (name(dir, fdPath) != null || call.equals("sync") || call.equals("syncfs")) {
                    throw unmodeled(body);
                }
                return List.of();
            }
        }
    }

    private static IllegalStateException unmodeled(String body) {
        return new IllegalStateException("a state file is touched by a call the crash model does not know; extend it: "
                + body.substring(0, Math.min(300, body.length())));
    }

    /** The name inside {@code dir}, "." for dir itself, null for anything else. */
    private static String name(Path dir, String path) {
        if (path == null || !path.startsWith("/")) {
            return null;
        }
        Path p = Path.of(path.endsWith(" (deleted)") ? path.substring(0, path.length() - 10) : path)
                .normalize();
        if (p.equals(dir)) {
            return ".";
        }
        if (!p.startsWith(dir)) {
            return null;
        }
        if (!dir.equals(p.getParent())) {
            throw new IllegalStateException("a file below the state dir's top level is not modeled: " + p);
        }
        return p.getFileName().toString();
    }

    private static String resolve(String base, String path) {
        if (path.startsWith("/") || base == null) {
            return path;
        }
        return Path.of(base).resolve(path).toString();
    }

    /** The directory annotation of a *at call's second dirfd (renameat's newdirfd). */
    private static String lastDir(String args) {
        Matcher m = Pattern.compile(", (\\d+|AT_FDCWD)<([^>]*)>, \"").matcher(args);
        String last = null;
        while (m.find()) {
            last = unhexPath(m.group(2));
        }
        if (last == null) {
            Matcher first = FD.matcher(args);
            return first.find() ? unhexPath(first.group(2)) : null;
        }
        return last;
    }

    private static long lastNumber(String args) {
        Matcher m = Pattern.compile("(\\d+)\\s*$").matcher(args);
        if (!m.find()) {
            throw new IllegalStateException("no number at the end of " + args);
        }
        return Long.parseLong(m.group(1));
    }

    static List<String> ids(String text) {
        Set<String> out = new LinkedHashSet<>();
        Matcher m = IDS.matcher(text);
        while (m.find()) {
            Matcher id = ID.matcher(m.group(1));
            while (id.find()) {
                out.add(id.group());
            }
        }
        return List.copyOf(out);
    }

    /** Decodes strace's -xx escapes ({@code \\xNN}); other characters (e.g. " (deleted)") stay as they are. */
    private static String hex(String escaped) {
        StringBuilder b = new StringBuilder(escaped.length() / 4);
        for (int i = 0; i < escaped.length(); i++) {
            if (escaped.startsWith("\\x", i) && i + 4 <= escaped.length()) {
                b.append((char) Integer.parseInt(escaped.substring(i + 2, i + 4), 16));
                i += 3;
            } else {
                b.append(escaped.charAt(i));
            }
        }
        return b.toString();
    }

    /** A path annotation: hex like a string unless it names a socket or pipe. */
    private static String unhexPath(String annotation) {
        if (annotation == null) {
            return null;
        }
        if (annotation.startsWith("\\x")) {
            return new String(hex(annotation).getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        }
        return annotation;
    }
}
