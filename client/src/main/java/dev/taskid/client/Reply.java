package dev.taskid.client;

import dev.taskid.protocol.Response;
import java.util.Optional;

/**
 * A response and how it was obtained. {@code lockWaitMillis} is the time spent waiting for
 * the state lock in fallback mode (0 in daemon mode); {@code notice} says what was done on
 * first use (counters created), for the user's terminal.
 */
public record Reply(Response response, Mode mode, long lockWaitMillis, Optional<String> notice) {}
