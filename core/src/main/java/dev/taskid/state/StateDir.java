package dev.taskid.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * Where the state lives: {@code .taskid/} at the root of the repository (the main worktree's
 * root, so every worktree of a repository shares one allocator), or a directory given with
 * {@code --dir} / {@code TASKID_DIR}. Immutable; knows the path of every file in it.
 */
public final class StateDir {
    public static final String NAME = ".taskid";
    /** Longest socket path: sun_path is 108 bytes on Linux including the terminating NUL. */
    static final int MAX_SOCKET_PATH_BYTES = 107;

    private final Path dir;
    private final Path projectRoot;
    private final boolean guessed;

    private StateDir(Path dir, Path projectRoot, boolean guessed) {
        this.dir = dir;
        this.projectRoot = projectRoot;
        this.guessed = guessed;
    }

    /** A state directory given explicitly. Its parent counts as the project root. */
    public static StateDir of(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        Path parent = abs.getParent() == null ? abs : abs.getParent();
        return new StateDir(abs, parent, false);
    }

    /**
     * Finds the state directory for {@code cwd}: the explicit {@code override} if any, else the
     * repository root found by walking up, else {@code cwd} itself ({@link #guessed()}).
     */
    public static StateDir locate(Path cwd, String override) {
        if (override != null && !override.isEmpty()) {
            return of(cwd.resolve(override));
        }
        Path start = cwd.toAbsolutePath().normalize();
        for (Path p = start; p != null; p = p.getParent()) {
            Path git = p.resolve(".git");
            if (Files.isDirectory(git)) {
                return new StateDir(p.resolve(NAME), p, false);
            }
            if (Files.isRegularFile(git)) {
                Path root = mainWorktreeRoot(p, git).orElse(p);
                return new StateDir(root.resolve(NAME), root, false);
            }
            if (Files.isDirectory(p.resolve(NAME))) {
                return new StateDir(p.resolve(NAME), p, false);
            }
        }
        return new StateDir(start.resolve(NAME), start, true);
    }

    /**
     * A linked worktree's {@code .git} file says {@code gitdir: <main>/.git/worktrees/<name>};
     * that directory's {@code commondir} file leads to the main {@code .git}. A submodule's
     * gitdir has no commondir: the submodule is its own root.
     */
    private static Optional<Path> mainWorktreeRoot(Path worktree, Path gitFile) {
        try {
            String content = Files.readString(gitFile, StandardCharsets.UTF_8).trim();
            if (!content.startsWith("gitdir:")) {
                return Optional.empty();
            }
            Path gitDir = worktree.resolve(content.substring("gitdir:".length()).trim()).normalize();
            Path commonFile = gitDir.resolve("commondir");
            if (!Files.isRegularFile(commonFile)) {
                return Optional.empty();
            }
            Path common = gitDir.resolve(Files.readString(commonFile, StandardCharsets.UTF_8).trim()).normalize();
            return Optional.ofNullable(common.getParent());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    public Path dir() {
        return dir;
    }

    /** The directory whose TASKS.md seeds the counters on first use. */
    public Path projectRoot() {
        return projectRoot;
    }

    /** True when no repository was found and the working directory was taken. */
    public boolean guessed() {
        return guessed;
    }

    public Path counters() {
        return dir.resolve("counters.json");
    }

    public Path config() {
        return dir.resolve("config.json");
    }

    public Path lock() {
        return dir.resolve("lock");
    }

    public boolean exists() {
        return Files.isDirectory(dir);
    }

    /**
     * Creates the directory (0700) and its .gitignore if missing. Returns true if created.
     * Everything but the config is ignored: a tracked counters.json would be rewound by a
     * checkout of an older commit, and rewound counters repeat IDs.
     */
    public boolean create() throws IOException {
        if (Files.isDirectory(dir)) {
            return false;
        }
        Files.createDirectories(dir.getParent());
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (java.nio.file.FileAlreadyExistsException raced) {
            return false;
        }
        Files.writeString(dir.resolve(".gitignore"),
                "# written by taskid: state is local to this machine, only config.json is shared\n*\n!.gitignore\n!config.json\n");
        return true;
    }

    /**
     * The daemon's socket: {@code .taskid/daemon.sock} when that path fits sun_path, else a
     * short path named by a hash of this directory under {@code $XDG_RUNTIME_DIR/taskid/} or a
     * per-user directory in /tmp. Client and daemon derive the same path.
     */
    public Path socket(Map<String, String> env, long uid) {
        Path inDir = dir.resolve("daemon.sock");
        if (inDir.toString().getBytes(StandardCharsets.UTF_8).length <= MAX_SOCKET_PATH_BYTES) {
            return inDir;
        }
        String runtime = env.get("XDG_RUNTIME_DIR");
        Path base = runtime != null && !runtime.isEmpty() && Path.of(runtime).isAbsolute()
                ? Path.of(runtime, "taskid") : Path.of("/tmp", "taskid-" + uid);
        return base.resolve(hash(dir.toString()) + ".sock");
    }

    private static String hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }

    @Override
    public String toString() {
        return dir.toString();
    }
}
