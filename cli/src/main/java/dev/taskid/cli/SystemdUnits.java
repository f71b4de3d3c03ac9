package dev.taskid.cli;

import dev.taskid.cli.command.Context;
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
    /** ExecStart's path in the shipped units: where the Debian package installs the launcher. */
    private static final String PLACEHOLDER = "/usr/bin/taskid";
    /** The system-wide daemon's state, as the shipped taskid.service says (StateDirectory=taskid). */
    static final Path SYSTEM_STATE = Path.of("/var/lib/taskid");

    private final PrintStream out;
    private final Map<String, String> env;

    SystemdUnits(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    /**
     * Per-repository user units (templates + drop-ins when this repository needs them), or the
     * system unit for {@code dir} ({@link #SYSTEM_STATE} unless the caller chose another).
     */
    int install(StateDir dir, Path socket, boolean system, Path unitDirOverride) {
        String launcher = launcher();
        List<Path> written = new ArrayList<>();
        if (system) {
            Path unitDir = unitDirOverride != null ? unitDirOverride : Path.of("/etc/systemd/system");
            written.add(write(unitDir.resolve("taskid.service"), systemUnit(dir.dir(), launcher)));
            report(written);
            out.println("then: systemctl daemon-reload && systemctl enable --now taskid.service");
            out.println("clients: taskid --dir " + dir.dir() + " reserve SEC   (or TASKID_DIR=" + dir.dir() + ")");
            out.println("other users: list their uids in " + dir.config() + " \"allowedUids\" (the directory is"
                    + " 0711: they reach the socket, not the files)");
            return Context.OK;
        }
        Path unitDir = unitDirOverride != null ? unitDirOverride : userUnitDir();
        written.add(write(unitDir.resolve("taskid@.socket"), resource("taskid@.socket")));
        written.add(write(
                unitDir.resolve("taskid@.service"), resource("taskid@.service").replace(PLACEHOLDER, launcher)));
        Path root = dir.projectRoot();
        String instance = escapePath(root);
        // The templates assume <root>/.git/taskid and a socket inside it; say otherwise in drop-ins.
        if (!dir.dir().equals(root.resolve(".git").resolve(StateDir.IN_GIT))) {
            written.add(write(
                    unitDir.resolve("taskid@" + instance + ".service.d/dir.conf"),
                    "[Service]\nExecStart=\nExecStart=" + launcher + " daemon --dir " + dir.dir() + "\n"
                            + "ReadWritePaths=" + dir.dir() + "\n"));
        }
        if (!socket.equals(dir.dir().resolve("daemon.sock"))) {
            written.add(write(
                    unitDir.resolve("taskid@" + instance + ".socket.d/listen.conf"),
                    "[Socket]\nListenStream=\nListenStream=" + socket + "\n"));
        }
        report(written);
        out.println(
                "then: systemctl --user daemon-reload && systemctl --user enable --now taskid@" + instance + ".socket");
        return Context.OK;
    }

    /**
     * The system unit for state in {@code dir}: in {@link #SYSTEM_STATE} systemd creates the
     * directory (StateDirectory=, 0711 so that allowed users reach the socket without reading
     * the files); elsewhere it is made writable, and a home directory is made visible.
     */
    static String systemUnit(Path dir, String launcher) {
        String unit = resource("taskid.service").replace(PLACEHOLDER, launcher);
        if (dir.equals(SYSTEM_STATE)) {
            return unit;
        }
        unit = unit.replace("StateDirectory=taskid\nStateDirectoryMode=0711\n", "ReadWritePaths=" + dir + "\n")
                .replace(
                        " (created by StateDirectory=, 0711:\n# allowed users reach the socket inside, not the files).",
                        ".")
                .replace(SYSTEM_STATE.toString(), dir.toString());
        if (dir.startsWith("/home") || dir.startsWith("/root") || dir.startsWith("/run/user")) {
            // ProtectHome=yes would hide the state directory itself; read-only keeps the rest safe.
            unit = unit.replace("ProtectHome=yes\n", "ProtectHome=read-only\n");
        }
        return unit;
    }

    int uninstall(StateDir dir, boolean system, Path unitDirOverride) {
        List<Path> removed = new ArrayList<>();
        Path unitDir;
        if (system) {
            unitDir = unitDirOverride != null ? unitDirOverride : Path.of("/etc/systemd/system");
            out.println("first: systemctl disable --now taskid.service");
            removed.addAll(delete(unitDir.resolve("taskid.service")));
        } else {
            unitDir = unitDirOverride != null ? unitDirOverride : userUnitDir();
            String instance = escapePath(dir.projectRoot());
            out.println("first: systemctl --user disable --now taskid@" + instance + ".socket taskid@" + instance
                    + ".service");
            removed.addAll(delete(unitDir.resolve("taskid@" + instance + ".service.d/dir.conf")));
            removed.addAll(delete(unitDir.resolve("taskid@" + instance + ".socket.d/listen.conf")));
            // The templates serve every repository: they go with the last one that uses them.
            List<String> others = otherInstances(unitDir, instance);
            if (others.isEmpty()) {
                removed.addAll(delete(unitDir.resolve("taskid@.socket")));
                removed.addAll(delete(unitDir.resolve("taskid@.service")));
            } else if (Files.exists(unitDir.resolve("taskid@.socket"))) {
                out.println("kept " + unitDir.resolve("taskid@.socket") + " and taskid@.service: still used by "
                        + String.join(", ", others));
            }
        }
        for (Path p : removed) {
            out.println("removed " + p);
        }
        if (removed.isEmpty()) {
            out.println("nothing to remove in " + unitDir);
        }
        return Context.OK;
    }

    /**
     * Instances of the templates other than {@code instance} that this unit directory still
     * knows: enabled ones (symlinks in *.wants/) and ones with drop-ins.
     */
    private static List<String> otherInstances(Path unitDir, String instance) {
        java.util.TreeSet<String> found = new java.util.TreeSet<>();
        try (var entries = Files.list(unitDir)) {
            for (Path e : (Iterable<Path>) entries::iterator) {
                String name = e.getFileName().toString();
                if (name.endsWith(".wants") && Files.isDirectory(e)) {
                    try (var wants = Files.list(e)) {
                        wants.map(w -> w.getFileName().toString()).forEach(found::add);
                    }
                } else {
                    found.add(name);
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot list " + unitDir + ": " + e.getMessage());
        }
        List<String> others = new ArrayList<>();
        for (String name : found) {
            String unit = name.endsWith(".d") ? name.substring(0, name.length() - 2) : name;
            if (unit.startsWith("taskid@")
                    && !unit.startsWith("taskid@.")
                    && !unit.startsWith("taskid@" + instance + ".")) {
                String other = unit.substring("taskid@".length(), unit.lastIndexOf('.'));
                if (!others.contains(other)) {
                    others.add(other);
                }
            }
        }
        return others;
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
            boolean plain = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == ':'
                    || c == '_'
                    || (c == '.' && i > 0);
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
        Path base = config != null && !config.isEmpty()
                ? Path.of(config)
                : Path.of(env.getOrDefault("HOME", "/root"), ".config");
        return base.resolve("systemd/user");
    }

    /** The command that starts taskid here: the launcher if we were started by one. */
    private String launcher() {
        String launcher = env.get("TASKID_LAUNCHER");
        if (launcher != null && !launcher.isEmpty()) {
            return launcher;
        }
        throw new TaskIdException(
                ErrorCode.SYSTEM_ERROR,
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
            Files.move(
                    tmp,
                    file,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
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
