package dev.taskid.client;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.SocketDir;
import dev.taskid.state.StateDir;
import dev.taskid.state.Users;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * Whom the client believes when something answers at the daemon's socket: this process's
 * user, the owner of the state directory (a daemon run by a service user for a shared state
 * directory) and root (who can write the counters anyway; a system socket unit's listening
 * socket is root's). Checked before anything is read from the socket: the socket's directory
 * (lstat, {@link SocketDir}), the socket file (no symlink) and the peer's uid (SO_PEERCRED).
 * Anything else is FORBIDDEN; the client then neither uses the answer nor falls back behind it.
 */
final class DaemonTrust {
    /**
     * What a taskid daemon's command line holds: the main class, or the jar the launcher runs.
     * A name in another process's arguments, not a use of the class: the client module does not
     * depend on the daemon's (hence the split string, which the architecture test would take for one).
     */
    private static final List<String> DAEMON_MARKERS =
            List.of("dev.taskid." + "daemon.DaemonMain", "taskid-daemon.jar");

    private static final int MAX_CMDLINE_BYTES = 1 << 20;

    private final Set<UserPrincipal> users;
    private final boolean runtimeDir;

    private DaemonTrust(Set<UserPrincipal> users, boolean runtimeDir) {
        this.users = Set.copyOf(users);
        this.runtimeDir = runtimeDir;
    }

    static DaemonTrust of(StateDir dir, Path socket) {
        Set<UserPrincipal> users = new LinkedHashSet<>();
        users.add(Users.currentUser());
        try {
            users.add(Files.getOwner(dir.dir(), LinkOption.NOFOLLOW_LINKS));
        } catch (IOException | UnsupportedOperationException e) {
            // no state directory yet: only this user and root
        }
        try {
            users.add(dir.dir().getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("root"));
        } catch (IOException | UnsupportedOperationException e) {
            // a system without root: not trusted then
        }
        return new DaemonTrust(users, SocketDir.inRuntimeDir(dir, socket));
    }

    /**
     * Whether a daemon may be at {@code socket}: false when its directory or the socket file
     * does not exist; FORBIDDEN when either is not trustworthy; SYSTEM_ERROR naming the path
     * when this user may not reach it (the fallback could not read that directory either).
     */
    boolean mayConnect(Path socket) {
        if (!SocketDir.check(socket.getParent(), runtimeDir, users)) {
            return false;
        }
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (AccessDeniedException e) {
            throw unreachable(socket);
        } catch (IOException e) {
            return false;
        }
        if (a.isSymbolicLink()) {
            throw new TaskIdException(
                    ErrorCode.FORBIDDEN,
                    "the daemon socket " + socket + " is a symbolic link: taskid does not follow it; remove it",
                    Map.of("socket", socket.toString()),
                    null);
        }
        return true;
    }

    /**
     * A socket behind a directory this user may not search (another user's 0700 state
     * directory): its path, the cause (AccessDeniedException's own message is only the path)
     * and what the directory's owner can do.
     */
    private static TaskIdException unreachable(Path socket) {
        Path dir = socket.getParent();
        String mode = "";
        try {
            PosixFileAttributes d = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            mode = ": " + dir + " is " + PosixFilePermissions.toString(d.permissions()) + ", owned by "
                    + d.owner().getName();
        } catch (IOException | UnsupportedOperationException e) {
            // the path and the cause say enough
        }
        return new TaskIdException(
                ErrorCode.SYSTEM_ERROR,
                "cannot reach the daemon socket " + socket + ": permission denied for uid "
                        + Users.currentUid() + mode
                        + ". A state directory shared with other users lets them through to the socket"
                        + " (mode 0711, as `taskid systemd install --system` sets it up) and lists their uids in allowedUids;"
                        + " otherwise use a state directory of your own (--dir)",
                Map.of("file", socket.toString()),
                null);
    }

    /** FORBIDDEN unless the process serving {@code channel} runs as a trusted user. */
    void checkPeer(SocketChannel channel, Path socket) throws IOException {
        UserPrincipal peer;
        try {
            UnixDomainPrincipal p = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            peer = p.user();
        } catch (UnsupportedOperationException e) {
            throw new TaskIdException(
                    ErrorCode.FORBIDDEN,
                    "cannot tell who serves " + socket + " (no SO_PEERCRED here), so its answers are not trusted",
                    Map.of("socket", socket.toString()),
                    e);
        }
        if (!users.contains(peer)) {
            throw new TaskIdException(
                    ErrorCode.FORBIDDEN,
                    "the process serving " + socket + " runs as user "
                            + peer.getName() + ", not as " + names()
                            + ": not a daemon of yours; nothing it says is used. "
                            + "Stop it (or remove the socket) and start the daemon again",
                    Map.of("socket", socket.toString(), "user", peer.getName()),
                    null);
        }
    }

    /**
     * The process named by a daemon's hello, once checked: it runs as a trusted user and is a
     * taskid daemon. The pid in hello is the daemon's word only; SO_PEERCRED on the client's
     * side gives the uid but not the pid, so the pid is checked before anything signals it.
     */
    ProcessHandle daemonProcess(long pid) {
        ProcessHandle process = ProcessHandle.of(pid)
                .orElseThrow(() -> new TaskIdException(
                        ErrorCode.SYSTEM_ERROR,
                        "daemon pid " + pid + " is not visible from here; stop it where it runs"));
        String owner = owner(process);
        if (owner == null || users.stream().noneMatch(u -> u.getName().equals(owner))) {
            throw new TaskIdException(
                    ErrorCode.FORBIDDEN,
                    "the daemon says it is pid " + pid + ", which runs as "
                            + (owner == null ? "an unknown user" : "user " + owner) + ", not as " + names()
                            + ": not signalling it",
                    Map.of("pid", pid),
                    null);
        }
        List<String> command = commandLine(process);
        if (command.stream().noneMatch(arg -> DAEMON_MARKERS.stream().anyMatch(arg::endsWith))) {
            throw new TaskIdException(
                    ErrorCode.FORBIDDEN,
                    "the daemon says it is pid " + pid
                            + ", which is not a taskid daemon ("
                            + (command.isEmpty() ? "command line unknown" : command.get(0))
                            + "): not signalling it",
                    Map.of("pid", pid),
                    null);
        }
        return process;
    }

    /**
     * The process's arguments: /proc/PID/cmdline on Linux (the JDK's own view is cut at a page,
     * and a daemon's class path is longer), else what the JDK can tell.
     */
    private static List<String> commandLine(ProcessHandle process) {
        Path cmdline = Path.of("/proc", Long.toString(process.pid()), "cmdline");
        try (var in = Files.newInputStream(cmdline)) {
            String all = new String(in.readNBytes(MAX_CMDLINE_BYTES), java.nio.charset.StandardCharsets.UTF_8);
            return List.of(all.split("\0"));
        } catch (IOException | UnsupportedOperationException e) {
            return process.info().commandLine().map(c -> List.of(c.split(" "))).orElse(List.of());
        }
    }

    /** The process's user name: the owner of /proc/PID on Linux, else what the JDK can tell. */
    private static String owner(ProcessHandle process) {
        try {
            return Files.getOwner(Path.of("/proc", Long.toString(process.pid())), LinkOption.NOFOLLOW_LINKS)
                    .getName();
        } catch (IOException | UnsupportedOperationException e) {
            return process.info().user().orElse(null);
        }
    }

    private String names() {
        return users.stream()
                .map(UserPrincipal::getName)
                .sorted()
                .distinct()
                .toList()
                .toString();
    }
}
