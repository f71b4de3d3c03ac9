package dev.taskid.cli;

import dev.taskid.allocator.Allocator;
import dev.taskid.json.Json;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.AuditEntry;
import dev.taskid.state.AuditLog;
import dev.taskid.state.Config;
import dev.taskid.state.StateDir;
import dev.taskid.state.StateLock;
import dev.taskid.state.StateStore;
import dev.taskid.testing.Processes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Test-only process that holds the state lock for as long as a test wants: something to
 * {@code kill -9} or freeze while it holds the lock. Usage: {@code LockHolder STATE_DIR}.
 * It takes the lock the way a fallback client does, reads the counters, prints {@code locked}
 * and then reads one line from stdin: {@code reserve PREFIX N} reserves under the lock it has
 * held all along, commits durably and prints the IDs, comma-separated; end of input just
 * releases. Either way it exits after that one line.
 */
public final class LockHolder {
    private LockHolder() {}

    /** The command line of a LockHolder JVM on {@code stateDir}; it prints {@code locked} once it holds the lock. */
    public static List<String> command(Path stateDir) {
        return List.of(
                Processes.java(), "-cp", Processes.testClassPath(), LockHolder.class.getName(), stateDir.toString());
    }

    public static void main(String[] args) throws IOException {
        Json json = new Json();
        Clock clock = Clock.systemUTC();
        StateDir dir = StateDir.of(Path.of(args[0]));
        Config config = Config.load(dir.config(), json);
        try (StateStore store = StateStore.open(dir, json, clock, config.audit());
                StateLock.Held held = store.lock().acquire(Duration.ofSeconds(60), "test lock holder")) {
            StateStore.Loaded loaded = store.load(config);
            System.out.println("locked");
            System.out.flush();
            String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            if (line != null && line.startsWith("reserve ")) {
                String[] words = line.split(" ");
                Request.Reserve request =
                        new Request.Reserve(null, words[1], Long.parseLong(words[2]), "held", null, null);
                Response.Reserved reserved =
                        (Response.Reserved) new Allocator(config, clock).apply(loaded.ledger(), request);
                List<AuditEntry> entries = new ArrayList<>();
                AuditEntry.collect(
                        request,
                        reserved,
                        AuditEntry.Requester.self(AuditLog.FALLBACK, held.waitedMillis()),
                        clock.instant(),
                        entries);
                store.commit(loaded.ledger(), entries);
                System.out.println(String.join(",", reserved.ids()));
                System.out.flush();
            }
        }
    }
}
