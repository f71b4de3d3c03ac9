package dev.taskid.cli;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.StateDir;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code taskid systemd install|uninstall}: writes the unit files shipped in the jar, with
 * ExecStart pointing at this installation's launcher, and prints the systemctl commands.
 */
final class SystemdUnits {
    private static final String PLACEHOLDER = "/usr/local/bin/taskid";

    private final PrintStream out;
    private final Map<String, String> env;

    SystemdUnits(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    /** Per-repository user units (template + drop-ins when this repo needs them), or the system unit. */
    int install(StateDir dir, Path socket, boolean system, Path unitDirOverride) {
        String launcher = launcher();
        List<Path> written = new ArrayList<>();
        if (system) {
            Path unitDir = unitDirOverride != null ? unitDirOverride : Path.of("/etc/systemd/system");
            String unit = resource("taskid.service").replace(PLACEHOLDER, launcher)
                    .replace("--dir /var/lib/taskid", "--dir " + dir.dir());
            if (!dir.dir().equals(Path.of("/var/lib/taskid"))) {
                unit = unit.replace("StateDirectory=taskid\nStateDirectoryMode=0700\n", "ReadWritePaths=" + dir.dir() + "\n");
            }
            written.add(write(unitDir.resolve("taskid.service"), unit));
            report(written);
            out.println("then: systemctl daemon-reload && systemctl enable --now taskid.service");
            out.println("clients: taskid --dir " + dir.dir() + " reserve SEC   (or TASKID_DIR=" + dir.dir() + ")");
            return Cli.OK;
        }
        Path unitDir = unitDirOverride != null ? unitDirOverride : userUnitDir();
        written.add(write(unitDir.resolve("taskid@.socket"), resource("taskid@.socket")));
        written.add(write(unitDir.resolve("taskid@.service"), resource("taskid@.service").replace(PLACEHOLDER, launcher)));
        Path root = dir.projectRoot();
        String instance = escapePath(root);
        // The templates assume <root>/.git/taskid and a socket inside it; say otherwise in drop-ins.
        if (!dir.dir().equals(root.resolve(".git").resolve(StateDir.IN_GIT))) {
            written.add(write(unitDir.resolve("taskid@" + instance + ".service.d/dir.conf"),
                    "[Service]\nExecStart=\nExecStart=" + launcher + " daemon --dir " + dir.dir() + "\n"
                            + "ReadWritePaths=" + dir.dir() + "\n"));
        }
        if (!socket.equals(dir.dir().resolve("daemon.sock"))) {
            written.add(write(unitDir.resolve("taskid@" + instance + ".socket.d/listen.conf"),
                    "[Socket]\nListenStream=\nListenStream=" + socket + "\n"));
        }
        report(written);
        out.println("then: systemctl --user daemon-reload && systemctl --user enable --now taskid@" + instance + ".socket");
        return Cli.OK;
    }

    int uninstall(StateDir dir, boolean system, Path unitDirOverride) {
        List<Path> removed = new ArrayList<>();
        Path unitDir;
        if (system) {
            unitDir = unitDirOverride != null ? unitDirOverride : Path.of("/etc/systemd/system");
            removed.addAll(delete(unitDir.resolve("taskid.service")));
            out.println("first: systemctl disable --now taskid.service");
        } else {
            unitDir = unitDirOverride != null ? unitDirOverride : userUnitDir();
            String instance = escapePath(dir.projectRoot());
            out.println("first: systemctl --user disable --now taskid@" + instance + ".socket taskid@" + instance + ".service");
            removed.addAll(delete(unitDir.resolve("taskid@" + instance + ".service.d/dir.conf")));
            removed.addAll(delete(unitDir.resolve("taskid@" + instance + ".socket.d/listen.conf")));
            // The templates serve every repository; remove them only when asked for all.
        }
        for (Path p : removed) {
            out.println("removed " + p);
        }
        if (removed.isEmpty()) {
            out.println("nothing to remove in " + unitDir);
        }
        return Cli.OK;
    }

    /** systemd-escape --path: strip slashes at the ends, '/' to '-', other specials to \xNN. */
    static String escapePath(Path path) {
        String p = path.toAbsolutePath().normalize().toString();
        String trimmed = p.replaceAll("^/+|/+$", "");
        if (trimmed.isEmpty()) {
            return "-";
        }
        StringBuilder b = new StringBuilder();
        byte[] bytes = trimmed.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            int c = bytes[i] & 0xff;
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == ':' || c == '_' || (c == '.' && i > 0);
            if (c == '/') {
                b.append('-');
            } else if (plain) {
                b.append((char) c);
            } else {
                b.append(String.format("\\x%02x", c));
            }
        }
        return b.toString();
    }

    private Path userUnitDir() {
        String config = env.get("XDG_CONFIG_HOME");
        Path base = config != null && !config.isEmpty() ? Path.of(config) : Path.of(env.getOrDefault("HOME", "/root"), ".config");
        return base.resolve("systemd/user");
    }

    /** The command that starts taskid here: the launcher if we were started by one. */
    private String launcher() {
        String launcher = env.get("TASKID_LAUNCHER");
        if (launcher != null && !launcher.isEmpty()) {
            return launcher;
        }
        throw new TaskIdException(ErrorCode.SYSTEM_ERROR,
                "run this through the taskid launcher (./taskid or bin/taskid) so the units can point at it");
    }

    private static String resource(String name) {
        try (InputStream in = SystemdUnits.class.getResourceAsStream("units/" + name)) {
            if (in == null) {
                throw new IllegalStateException("unit " + name + " missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read unit " + name, e);
        }
    }

    private static Path write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot write " + file + ": " + e.getMessage());
        }
    }

    private static List<Path> delete(Path file) {
        try {
            boolean gone = Files.deleteIfExists(file);
            if (gone && file.getParent().getFileName().toString().endsWith(".d")) {
                try (var rest = Files.list(file.getParent())) {
                    if (rest.findAny().isEmpty()) {
                        Files.delete(file.getParent());
                    }
                }
            }
            return gone ? List.of(file) : List.of();
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot remove " + file + ": " + e.getMessage());
        }
    }

    private void report(List<Path> written) {
        for (Path p : written) {
            out.println("wrote " + p);
        }
    }
}
