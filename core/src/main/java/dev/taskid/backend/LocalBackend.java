package dev.taskid.backend;

import dev.taskid.allocator.Ledger;
import dev.taskid.protocol.Request;
import dev.taskid.state.AuditEntry;
import dev.taskid.state.StateStore;
import java.util.List;

/**
 * The default backend: counters.json and the audit log of one state directory, whose lock the
 * caller holds for as long as it uses this (the daemon: its whole life). Memory is the truth
 * between batches, so {@code begin} costs nothing.
 */
public final class LocalBackend implements StateBackend {
    private final Ledger ledger;
    private final StateStore store;

    public LocalBackend(Ledger ledger, StateStore store) {
        this.ledger = ledger;
        this.store = store;
    }

    /** The one in-memory ledger: the daemon applies requests to it as they arrive. */
    public Ledger ledger() {
        return ledger;
    }

    /** The store this backend commits to; the daemon persists through it from its own thread. */
    public StateStore store() {
        return store;
    }

    @Override
    public Ledger begin(List<Request> requests) {
        return ledger;
    }

    @Override
    public void commit(Ledger changed, List<AuditEntry> entries) {
        store.commit(changed, entries); // rolls the ledger back if it throws
    }

    @Override
    public void end(Ledger unchanged) {
        unchanged.rollback();
    }

    @Override
    public String kind() {
        return "local";
    }
}
