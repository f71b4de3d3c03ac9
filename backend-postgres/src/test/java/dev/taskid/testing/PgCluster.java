package dev.taskid.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A throwaway PostgreSQL server for tests: initdb into a temp dir owned by the {@code postgres}
 * user, {@code postgres} started as that user (setpriv execs, so the pid is the server's) on
 * a free loopback port, trust authentication, stopped by its pid. Skips the test, saying why,
 * only when no PostgreSQL binaries are installed (CI installs them: .ci/run).
 */
public final class PgCluster implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Path bin;
    private final Path data;
    private final String uid;
    private final String gid;
    private final int port;
    private final String listen;
    private Process server;

    private PgCluster(Path bin, Path data, String uid, String gid, int port, String listen) {
        this.bin = bin;
        this.data = data;
        this.uid = uid;
        this.gid = gid;
        this.port = port;
        this.listen = listen;
    }

    /** Creates and starts a cluster on loopback; aborts the test (skipped, with the reason) when PostgreSQL is not installed. */
    public static PgCluster start() {
        return start(null, null);
    }

    /**
     * Like {@link #start()}, also listening on {@code address} (one the test created, e.g. on a
     * veth of its own) and trusting clients from {@code clients} (a CIDR); both null: loopback only.
     */
    public static PgCluster start(String address, String clients) {
        Optional<Path> bin = binaries();
        Assumptions.assumeTrue(
                bin.isPresent(),
                "no PostgreSQL binaries (/usr/lib/postgresql/*/bin/initdb): "
                        + "install Debian's postgresql package (.ci/run does)");
        String uid = id("-u");
        String gid = id("-g");
        try {
            Path data = Files.createTempDirectory("taskid-pg");
            run(List.of("chown", uid + ":" + gid, data.toString()));
            PgCluster c = new PgCluster(
                    bin.get(), data, uid, gid, freePort(), address == null ? "127.0.0.1" : "127.0.0.1," + address);
            c.asPostgres(List.of(
                    bin.get().resolve("initdb").toString(),
                    "-D",
                    data.resolve("db").toString(),
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8"));
            if (clients != null) {
                Files.writeString(
                        data.resolve("db").resolve("pg_hba.conf"),
                        "host all all " + clients + " trust\n",
                        java.nio.file.StandardOpenOption.APPEND);
            }
            c.launch();
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Optional<Path> binaries() {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(root)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(Comparator.comparing(
                            b -> b.getParent().getFileName().toString(),
                            Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Starts the server (again, after {@link #crash}) and waits until it accepts connections. */
    public void launch() {
        List<String> cmd = new ArrayList<>(setpriv());
        cmd.addAll(List.of(
                bin.resolve("postgres").toString(),
                "-D",
                data.resolve("db").toString(),
                "-p",
                String.valueOf(port),
                "-c",
                "listen_addresses=" + listen,
                "-c",
                "unix_socket_directories=" + data,
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=16MB"));
        try {
            server = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(
                            data.resolve("server.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(50)).until(() -> {
            if (!server.isAlive()) {
                throw new AssertionError("postgres exited: " + log());
            }
            try (Connection c = connect("postgres")) {
                return true;
            } catch (SQLException e) {
                return false;
            }
        });
    }

    /** A crash: {@code pg_ctl stop -m immediate} (no checkpoint; recovery replays the WAL at the next start). */
    public void crash() {
        asPostgres(List.of(
                bin.resolve("pg_ctl").toString(),
                "stop",
                "-m",
                "immediate",
                "-D",
                data.resolve("db").toString()));
        awaitExit();
    }

    /** A new empty database; returns its libpq URL. */
    public String createDatabase(String name) {
        try (Connection c = connect("postgres");
                Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return url(name);
    }

    public String url(String database) {
        return "postgresql://postgres@127.0.0.1:" + port + "/" + database;
    }

    public int port() {
        return port;
    }

    /** A JDBC connection as the superuser (autocommit on). */
    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=postgres"
                + "&connectTimeout=5&socketTimeout=30");
    }

    public String log() {
        try {
            return Files.readString(data.resolve("server.log"));
        } catch (IOException e) {
            return "<no server log: " + e + ">";
        }
    }

    @Override
    public void close() {
        if (server != null && server.isAlive()) {
            server.destroy(); // SIGTERM: smart shutdown
            try {
                if (!server.waitFor(30, TimeUnit.SECONDS)) {
                    server.destroyForcibly();
                    server.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        run(List.of("rm", "-rf", data.toString()));
    }

    private void awaitExit() {
        try {
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("postgres did not stop: " + log());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private List<String> setpriv() {
        return List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups");
    }

    private void asPostgres(List<String> command) {
        List<String> cmd = new ArrayList<>(setpriv());
        cmd.addAll(command);
        Processes.Result r = Processes.run(cmd, data, Map.of("HOME", data.toString()), Duration.ofSeconds(120));
        if (r.status() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + r);
        }
    }

    private static String id(String which) {
        Processes.Result r =
                Processes.run(List.of("id", which, "postgres"), Path.of("/"), Map.of(), Duration.ofSeconds(10));
        Assumptions.assumeTrue(r.status() == 0, "no postgres user (Debian's postgresql package creates it)");
        return r.stdout().trim();
    }

    private static void run(List<String> command) {
        Processes.Result r = Processes.run(command, Path.of("/"), Map.of(), Duration.ofSeconds(60));
        if (r.status() != 0) {
            throw new IllegalStateException(r.toString());
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
