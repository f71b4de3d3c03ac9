package dev.taskid.cli.admin;

import dev.taskid.backend.BackendConfig;
import dev.taskid.backend.RemoteBackend;
import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Output;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.state.Config;
import dev.taskid.state.Recovery;
import dev.taskid.state.StateFile;
import java.io.PrintStream;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * {@code taskid backend init|import|show}: set up the shared backend (PostgreSQL) and move a
 * repository's local counters into it.
 */
public final class BackendCommand implements Command {
    private static final String SYNOPSIS = "backend init|import|show [--json]";
    private static final String HELP =
            "The shared backend (PostgreSQL) that several machines use instead of local files (README: Many machines).\n"
                    + "init: create or upgrade its schema (idempotent; safe from several hosts at once).\n"
                    + "import: raise the shared counters to at least this clone's local ones (counters.json, its backup, the\n"
                    + "audit log) and the highest IDs in TASKS.md. Never lowers. Run it once per clone that has local state.\n"
                    + "show: which backend and project key this repository uses.";

    private static final Spec SPEC = new Spec("backend", SYNOPSIS, HELP);

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        List<String> rest = c.rest();
        boolean json = c.json();
        TaskIds ids = c.ids();
        PrintStream out = c.out();
        Output o = c.output();
        if (rest.size() != 1 || !List.of("init", "import", "show").contains(rest.get(0))) {
            throw new UsageException("backend takes one of init, import, show", SYNOPSIS);
        }
        Optional<BackendConfig> shared = ids.backend();
        if (shared.isEmpty()) {
            return o.fail(
                    ErrorCode.CONFIG_INVALID,
                    "no shared backend is configured: set TASKID_BACKEND or \"backend\" in "
                            + ids.stateDir().config() + " (README: Many machines)",
                    Map.of());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("backend", BackendConfig.redact(shared.get().url()));
        m.put("project", shared.get().project());
        switch (rest.get(0)) {
            case "show" -> m.put("projectFrom", shared.get().projectFrom());
            case "init" -> {
                RemoteBackend backend = ids.remoteBackend().orElseThrow();
                m.put("result", backend.initSchema());
            }
            default -> {
                Response r = ids.call(new Request.Init(null, null, floors(ids))).response();
                if (r instanceof Response.Failure f) {
                    return o.fail(f.code(), f.message(), f.details());
                }
                Response.Initialized done = (Response.Initialized) r;
                m.put("before", done.before());
                m.put("after", done.after());
            }
        }
        if (json) {
            o.object(m);
        } else {
            m.forEach((k, v) -> out.println(k + ": " + v));
        }
        return Context.OK;
    }

    /** The highest number each local source knows per prefix: counters.json, its backup, the audit log, TASKS.md. */
    private static Map<String, Long> floors(TaskIds ids) {
        Json codec = new Json();
        Config config = Config.load(ids.stateDir().config(), codec);
        StateFile file = new StateFile(ids.stateDir().counters(), codec, Clock.systemUTC());
        Recovery.Plan plan = new Recovery(ids.stateDir(), file, config, codec).plan();
        Map<String, Long> floors = new TreeMap<>();
        plan.rows().forEach(row -> floors.merge(row.prefix(), row.result(), Math::max));
        if (plan.current().readable()) {
            plan.current().ledger().counters().forEach((p, n) -> floors.merge(p, n, Math::max));
        }
        floors.keySet().removeIf(p -> !config.isValidPrefix(p));
        return floors;
    }
}
