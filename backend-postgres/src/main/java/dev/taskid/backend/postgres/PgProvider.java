package dev.taskid.backend.postgres;

import dev.taskid.backend.BackendConfig;
import dev.taskid.backend.BackendProvider;
import dev.taskid.backend.RemoteBackend;
import dev.taskid.state.Config;
import java.time.Clock;

/** Found by {@link java.util.ServiceLoader}; touches no JDBC class until a backend is opened. */
public final class PgProvider implements BackendProvider {
    @Override
    public boolean accepts(String url) {
        return PgUrl.accepts(url);
    }

    @Override
    public RemoteBackend open(BackendConfig backend, Config config, Clock clock, String role) {
        return new PgBackend(backend, config, clock, PgUrl.parse(backend, System.getenv(), role));
    }
}
