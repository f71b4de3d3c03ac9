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
 * Where the state lives. In a git repository: {@code <git-common-dir>/taskid/} (counters, lock,
 * audit log, inbox), which {@code git clean} never touches and every linked worktree shares,
 * with the committable {@code .taskid/config.json} at the main worktree's root. Outside a
 * repository, or with {@code --dir} / {@code TASKID_DIR}, one directory holds both. Immutable;
 * knows the path of every file in it.
 */
public final class StateDir {
    public static final String NAME = ".taskid";
    /** The state directory's name inside the git common dir. */
    public static final String IN_GIT = "taskid";
    /** Longest socket path: sun_path is 108 bytes on Linux including the terminating NUL. */
    static final int MAX_SOCKET_PATH_BYTES = 107;

    private final Path dir;
    private final Path configDir;
    private final Path projectRoot;
    private final boolean guessed;

    private StateDir(Path dir, Path configDir, Path projectRoot, boolean guessed) {
        this.dir = dir;
        this.configDir = configDir;
        this.projectRoot = projectRoot;
        this.guessed = guessed;
    }

    /**
     * A state directory given explicitly, config included; its parent counts as the project
     * root. A repository's own state directory ({@code <root>/.git/taskid}, what the shims and
     * the systemd units pass) means that repository, config in the worktree.
     */
    public static StateDir of(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        Path parent = abs.getParent() == null ? abs : abs.getParent();
        if (named(abs, IN_GIT)
                && named(parent, ".git")
                && parent.getParent() != null
                && Files.isRegularFile(parent.resolve("HEAD"))) {
            Path root = parent.getParent();
            return new StateDir(abs, root.resolve(NAME), root, false);
        }
        return new StateDir(abs, abs, parent, false);
    }

    private static boolean named(Path p, String name) {
        return p.getFileName() != null && p.getFileName().toString().equals(name);
    }

    /**
     * Finds the state directory for {@code cwd}: the explicit {@code override} if any, else the
     * git repository found by walking up, else an existing {@code .taskid} found walking up,
     * else {@code cwd} itself ({@link #guessed()}).
     */
    public static StateDir locate(Path cwd, String override) {
        if (override != null && !override.isEmpty()) {
            return of(cwd.resolve(override));
        }
        Path start = cwd.toAbsolutePath().normalize();
        for (Path p = start; p != null; p = p.getParent()) {
            Path git = p.resolve(".git");
            if (Files.isDirectory(git) || Files.isRegularFile(git)) {
                Optional<Path> common = commonDir(p, git);
                if (common.isPresent()) {
                    // The main worktree's root: a linked worktree's common dir is the main .git;
                    // a submodule's gitdir (under the superproject's .git/modules) is its own.
                    Path root = Files.isDirectory(git) || isMainGitDir(common.get()) ? mainRoot(p, common.get()) : p;
                    return new StateDir(common.get().resolve(IN_GIT), root.resolve(NAME), root, false);
                }
                // Not a repository git would use (an empty .git, a broken .git file): as before.
                return new StateDir(p.resolve(NAME), p.resolve(NAME), p, false);
            }
            if (Files.isDirectory(p.resolve(NAME))) {
                return new StateDir(p.resolve(NAME), p.resolve(NAME), p, false);
            }
        }
        return new StateDir(start.resolve(NAME), start.resolve(NAME), start, true);
    }

    /** A linked worktree's common dir is named .git and sits in the main worktree's root. */
    private static boolean isMainGitDir(Path common) {
        return named(common, ".git");
    }

    private static Path mainRoot(Path worktree, Path common) {
        return isMainGitDir(common) && common.getParent() != null ? common.getParent() : worktree;
    }

    /**
     * The repository's git common dir, read the way git does, without starting git: a
     * {@code .git} directory holding HEAD; or a {@code .git} file saying
     * {@code gitdir: <path>}, whose {@code commondir} file (linked worktrees) leads to the
     * main {@code .git}; a gitdir without one (a submodule) is its own common dir.
     */
    private static Optional<Path> commonDir(Path worktree, Path git) {
        try {
            Path gitDir;
            if (Files.isDirectory(git)) {
                gitDir = git;
            } else {
                String content = Files.readString(git, StandardCharsets.UTF_8).trim();
                if (!content.startsWith("gitdir:")) {
                    return Optional.empty();
                }
                gitDir = worktree.resolve(content.substring("gitdir:".length()).trim())
                        .normalize();
            }
            Path commonFile = gitDir.resolve("commondir");
            if (Files.isRegularFile(commonFile)) {
                return Optional.of(gitDir.resolve(Files.readString(commonFile, StandardCharsets.UTF_8)
                                .trim())
                        .normalize());
            }
            return Files.isRegularFile(gitDir.resolve("HEAD")) ? Optional.of(gitDir) : Optional.empty();
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

    /** The configuration: committable, so in the worktree even when the state is not. */
    public Path config() {
        return configDir.resolve("config.json");
    }

    /**
     * Where earlier versions kept the state of this repository ({@code <root>/.taskid}), when
     * it is no longer the state directory: what {@link LegacyState} moves over.
     */
    public Optional<Path> legacy() {
        return configDir.equals(dir) ? Optional.empty() : Optional.of(configDir);
    }

    public Path lock() {
        return dir.resolve("lock");
    }

    public boolean exists() {
        return Files.isDirectory(dir);
    }

    /**
     * Creates the directory (0700) and, in a worktree, its .gitignore if missing. Returns true
     * if created. Everything but the config is ignored: a tracked counters.json would be
     * rewound by a checkout of an older commit, and rewound counters repeat IDs.
     */
    public boolean create() throws IOException {
        if (Files.isDirectory(dir)) {
            return false;
        }
        Files.createDirectories(dir.getParent());
        try {
            Files.createDirectory(
                    dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (java.nio.file.FileAlreadyExistsException raced) {
            return false;
        }
        if (legacy().isPresent()) {
            return true; // inside the git dir: nothing there is tracked
        }
        Files.writeString(
                dir.resolve(".gitignore"),
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
                ? Path.of(runtime, "taskid")
                : Path.of("/tmp", "taskid-" + uid);
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
