package dev.taskid.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Real child processes for tests: the taskid CLI as a JVM, node, npm, anything with a timeout. */
public final class Processes {
    /** One thread per stream drained: the common pool may have a single thread on 2 cores. */
    private static final java.util.concurrent.ExecutorService DRAINERS =
            java.util.concurrent.Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "drain");
                t.setDaemon(true);
                return t;
            });

    private Processes() {}

    /** What a finished process printed. */
    public record Result(int status, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + status + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    /**
     * The packages the CLI jar's manifest exports to it (Add-Exports in cli/pom.xml, for
     * dev.taskid.client.UnixChannels): {@link #taskid} gives them too, so that tests run the
     * CLI as the jar runs (UnixChannelsTest checks that the three agree).
     */
    public static final List<String> CLI_EXPORTS = List.of("java.base/sun.nio.ch", "java.base/sun.security.jca");

    /** The java that runs these tests. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * The CLI's own class path (cli, client, core, protocol, jackson-core), found from the classes
     * themselves. By name: these helpers live below the CLI module, which tests load them from.
     */
    public static String cliClassPath() {
        Set<String> parts = new LinkedHashSet<>();
        for (String name : List.of(
                "dev.taskid.cli.Main",
                "dev.taskid.client.TaskIds",
                "dev.taskid.state.StateStore",
                "dev.taskid.json.Json",
                "com.fasterxml.jackson.core.JsonFactory")) {
            try {
                Class<?> c = Class.forName(name, false, Processes.class.getClassLoader());
                parts.add(Path.of(c.getProtectionDomain()
                                .getCodeSource()
                                .getLocation()
                                .toURI())
                        .toString());
            } catch (ClassNotFoundException | URISyntaxException e) {
                throw new IllegalStateException("the CLI's classes are not on this test's class path: " + name, e);
            }
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    /**
     * This test JVM's whole class path (the module's classes, its tests and every dependency),
     * also when surefire hands it over in a manifest-only jar: what a child JVM needs to run
     * any main class of the module under test, e.g. the daemon.
     */
    public static String testClassPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        if (surefire != null && !surefire.isEmpty()) {
            return surefire;
        }
        Set<String> parts = new LinkedHashSet<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            parts.add(entry);
            if (entry.endsWith(".jar") && Files.isRegularFile(Path.of(entry))) {
                try (java.util.jar.JarFile jar = new java.util.jar.JarFile(entry)) {
                    java.util.jar.Manifest m = jar.getManifest();
                    String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
                    if (cp != null) {
                        for (String url : cp.trim().split("\\s+")) {
                            parts.add(Path.of(Path.of(entry).getParent().toUri().resolve(url))
                                    .toString());
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    /** The command line that runs the taskid CLI in a fresh JVM. */
    public static List<String> taskid(String... args) {
        List<String> cmd = new ArrayList<>(List.of(java(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        for (String export : CLI_EXPORTS) { // what the CLI jar's manifest gives a call
            cmd.addAll(List.of("--add-exports", export + "=ALL-UNNAMED"));
        }
        cmd.addAll(List.of("-cp", cliClassPath(), "dev.taskid.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** An executable {@code taskid} script in {@code dir} that runs the CLI under test. */
    public static Path taskidScript(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path script = dir.resolve("taskid");
        StringBuilder b = new StringBuilder("#!/bin/sh\nexec");
        for (String word : taskid()) {
            b.append(" '").append(word.replace("'", "'\\''")).append('\'');
        }
        b.append(" \"$@\"\n");
        Files.writeString(script, b.toString());
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    /** The first of {@code names} on PATH that runs with --version, if any. */
    public static Optional<String> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p) && !Files.isDirectory(p)) {
                return Optional.of(p.toString());
            }
        }
        return Optional.empty();
    }

    public static Result run(List<String> command, Path cwd, Map<String, String> env, Duration timeout) {
        return run(command, cwd, env, null, timeout);
    }

    /** Runs {@code command} to completion (killed after {@code timeout}), feeding it {@code stdin}. */
    public static Result run(List<String> command, Path cwd, Map<String, String> env, byte[] stdin, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
        // The developer's own settings must not leak into tests.
        pb.environment().remove("TASKID_DIR");
        pb.environment().remove("TASKID_BIN");
        pb.environment().remove("TASKID_BACKEND");
        pb.environment().remove("TASKID_BACKEND_PROJECT");
        // nor their per-user taskid preferences (a test that wants some sets its own XDG_CONFIG_HOME)
        pb.environment()
                .put(
                        "XDG_CONFIG_HOME",
                        cwd.toAbsolutePath().resolve(".no-user-config").toString());
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            if (stdin != null) {
                p.getOutputStream().write(stdin);
            }
            p.getOutputStream().close();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                throw new AssertionError(
                        "timed out after " + timeout + ": " + command + "\n" + out.join() + err.join());
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try (in) {
                        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        return "<" + e + ">";
                    }
                },
                DRAINERS);
    }
}
