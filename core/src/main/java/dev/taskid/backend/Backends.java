package dev.taskid.backend;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import dev.taskid.state.Config;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Finds the provider of a configured shared backend: on the class path (the daemon's jar and
 * the tests carry it), else in {@value #JAR} beside the CLI's jar (a distribution's lib/) or in
 * a source checkout's {@code backend-postgres/target/}. The CLI's own jar has no driver in it.
 */
public final class Backends {
    static final String JAR = "taskid-backend-postgres.jar";

    private Backends() {}

    public static RemoteBackend open(BackendConfig backend, Config config, Clock clock, String role) {
        BackendProvider provider = find(backend.url(), Backends.class.getClassLoader());
        if (provider == null) {
            List<Path> tried = candidates();
            for (Path jar : tried) {
                if (Files.isRegularFile(jar)) {
                    provider = find(backend.url(), loader(jar));
                    if (provider != null) {
                        break;
                    }
                }
            }
            if (provider == null) {
                throw new TaskIdException(
                        ErrorCode.CONFIG_INVALID,
                        "the backend " + BackendConfig.redact(backend.url())
                                + " is configured but its support is not installed (looked for " + JAR + " in " + tried
                                + "); taskid never falls back to local files when a shared backend is configured");
            }
        }
        return provider.open(backend, config, clock, role);
    }

    private static BackendProvider find(String url, ClassLoader loader) {
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class, loader)) {
            if (p.accepts(url)) {
                return p;
            }
        }
        return null;
    }

    private static ClassLoader loader(Path jar) {
        try {
            return new URLClassLoader(new URL[] {jar.toUri().toURL()}, Backends.class.getClassLoader());
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Beside the jar this class came from, then the checkout's module (client/target/ -> backend-postgres/target/). */
    private static List<Path> candidates() {
        List<Path> out = new ArrayList<>();
        try {
            Path self = Path.of(Backends.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            Path dir = self.getParent();
            if (dir != null) {
                out.add(dir.resolve(JAR));
                if (dir.getParent() != null && dir.getParent().getParent() != null) {
                    out.add(dir.getParent()
                            .getParent()
                            .resolve("backend-postgres")
                            .resolve("target")
                            .resolve(JAR));
                }
            }
        } catch (java.net.URISyntaxException | RuntimeException e) {
            // no code source (unusual class loader): only the class path counts
        }
        return out;
    }
}
