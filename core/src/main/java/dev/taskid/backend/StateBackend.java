package dev.taskid.backend;

import dev.taskid.allocator.Ledger;
import dev.taskid.protocol.Request;
import dev.taskid.state.AuditEntry;
import java.util.List;

/**
 * Where the durable truth of the counters lives, seen one batch at a time: the daemon's group
 * commit and the CLI's direct path both run {@code begin}, the allocator on the ledger it
 * returns, then {@code commit} (something changed) or {@code end} (nothing did). Nothing of a
 * batch may be acknowledged before {@code commit} returns.
 *
 * <p>The local backend returns the one in-memory ledger (the daemon holds the state lock, so
 * memory is the truth). A shared backend returns a ledger read from the database inside the
 * batch's transaction, with the rows it may change locked, because another host may have moved
 * them since the last batch.
 */
public interface StateBackend extends AutoCloseable {
    /**
     * Starts a batch of {@code requests}: the ledger holding the durable values they read or change.
     *
     * @throws dev.taskid.protocol.TaskIdException when the truth cannot be read (BACKEND_UNAVAILABLE)
     */
    Ledger begin(List<Request> requests);

    /**
     * Makes the batch's changes to {@code ledger} durable with their audit entries, in one step.
     *
     * @throws dev.taskid.protocol.TaskIdException when that failed or its outcome is unknown;
     *         the ledger is then rolled back and nothing of the batch may be acknowledged
     */
    void commit(Ledger ledger, List<AuditEntry> entries);

    /** Ends a batch that changed nothing (or failed before commit): undoes and releases whatever it holds. */
    void end(Ledger ledger);

    /** Which backend this is, for hello, stats and doctor ("local", "postgresql"). */
    String kind();

    @Override
    default void close() {}
}
