package dev.taskid.state;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Who holds a POSIX record lock, asked of the kernel: Linux lists every lock in
 * {@code /proc/locks} as {@code N: POSIX ADVISORY WRITE PID MAJ:MIN:INODE START END} (device
 * numbers in hex; waiters' lines carry {@code ->}). The note a holder writes into the lock
 * file only tells who wrote last, which may be a process long gone.
 */
final class ProcLocks {
    private static final Path LOCKS = Path.of("/proc/locks");
    /** /proc/locks has one line per lock in the whole system: read a bounded amount. */
    private static final int MAX_LINES = 100_000;

    private ProcLocks() {}

    /**
     * The pid holding a POSIX lock on {@code file}, or empty when none is listed.
     *
     * @throws UnsupportedOperationException where the kernel does not tell (no /proc/locks)
     */
    static OptionalLong holder(Path file) {
        if (!Files.isReadable(LOCKS)) {
            throw new UnsupportedOperationException("no /proc/locks");
        }
        String id;
        try {
            long dev = ((Number) Files.getAttribute(file, "unix:dev", LinkOption.NOFOLLOW_LINKS)).longValue();
            long ino = ((Number) Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
            // glibc's major()/minor() of a dev_t
            long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
            long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
            id = String.format("%02x:%02x:%d", major, minor, ino);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return OptionalLong.empty();
        }
        try (BufferedReader r = Files.newBufferedReader(LOCKS, StandardCharsets.US_ASCII)) {
            String line;
            for (int n = 0; n < MAX_LINES && (line = r.readLine()) != null; n++) {
                String[] f = line.trim().split("\\s+");
                // "1:" "POSIX" "ADVISORY" "WRITE" "123" "08:01:456" "0" "EOF"
                if (f.length >= 6 && f[1].equals("POSIX") && f[5].equals(id)) {
                    try {
                        return OptionalLong.of(Long.parseLong(f[4]));
                    } catch (NumberFormatException e) {
                        return OptionalLong.empty();
                    }
                }
            }
        } catch (IOException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }

    /** " (COMMAND LINE)" of a live process, shortened, or "" when it cannot be read. */
    static String command(long pid) {
        try {
            byte[] bytes = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            String cmd =
                    new String(bytes, StandardCharsets.UTF_8).replace('\0', ' ').trim();
            return cmd.isEmpty() ? "" : " (" + (cmd.length() > 120 ? cmd.substring(0, 120) + "..." : cmd) + ")";
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
