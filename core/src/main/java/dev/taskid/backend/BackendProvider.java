package dev.taskid.backend;

import dev.taskid.state.Config;
import java.time.Clock;

/**
 * A shared backend's entry point, found with {@link java.util.ServiceLoader} only when one is
 * configured, so that the local mode never loads a database driver.
 */
public interface BackendProvider {
    /** Whether this provider serves {@code url}. */
    boolean accepts(String url);

    /**
     * A backend for one repository; connects lazily. {@code role} names the caller in the
     * server's session list ("taskid-daemon", "taskid-cli").
     *
     * @throws dev.taskid.protocol.TaskIdException CONFIG_INVALID for settings it cannot serve (wrapped prefixes)
     */
    RemoteBackend open(BackendConfig backend, Config config, Clock clock, String role);
}
