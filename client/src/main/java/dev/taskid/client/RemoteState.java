package dev.taskid.client;

import dev.taskid.allocator.Allocator;
import dev.taskid.allocator.Ledger;
import dev.taskid.backend.RemoteBackend;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.Version;
import dev.taskid.state.AuditEntry;
import dev.taskid.state.Config;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * No daemon answered and a shared backend is configured: this process applies the request in
 * one transaction of its own, with the allocator the daemon uses. Never the local files.
 */
final class RemoteState implements AutoCloseable {
    private final RemoteBackend backend;
    private final Allocator allocator;
    private final Clock clock;
    private final String where;

    RemoteState(RemoteBackend backend, Config config, Clock clock, String where) {
        this.backend = backend;
        this.allocator = new Allocator(config, clock);
        this.clock = clock;
        this.where = where;
    }

    RemoteBackend backend() {
        return backend;
    }

    Reply apply(Request request) {
        if (request instanceof Request.Hello) {
            return reply(new Response.Hello(
                    request.id(),
                    Protocol.VERSION,
                    Version.CURRENT,
                    List.of("reserve", "peek", "validate", "set", "init", "keys"),
                    ProcessHandle.current().pid(),
                    where,
                    "backend",
                    Mode.BACKEND.wireName()));
        }
        if (request instanceof Request.Ping) {
            return reply(new Response.Pong(request.id()));
        }
        if (request instanceof Request.Stats) {
            return reply(new Response.Stats(
                    request.id(), Map.of("mode", Mode.BACKEND.wireName(), "backend", backend.kind())));
        }
        Ledger ledger = backend.begin(List.of(request));
        boolean ended = false;
        try {
            Response response = allocator.apply(ledger, request);
            if (ledger.dirty()) {
                List<AuditEntry> entries = new java.util.ArrayList<>(1);
                AuditEntry.collect(
                        request,
                        response,
                        AuditEntry.Requester.self(Mode.BACKEND.wireName(), -1),
                        clock.instant(),
                        entries);
                ended = true; // commit ends the transaction, also when it throws
                backend.commit(ledger, entries);
            }
            return reply(response);
        } finally {
            if (!ended) {
                backend.end(ledger);
            }
        }
    }

    private static Reply reply(Response response) {
        return new Reply(response, Mode.BACKEND, 0, Optional.empty());
    }

    @Override
    public void close() {
        backend.close();
    }
}
