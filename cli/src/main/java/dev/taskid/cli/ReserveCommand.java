package dev.taskid.cli;

import dev.taskid.cli.command.Command;
import dev.taskid.cli.command.Context;
import dev.taskid.cli.command.Output;
import dev.taskid.cli.command.Spec;
import dev.taskid.cli.usage.UsageException;
import dev.taskid.client.Mode;
import dev.taskid.client.Reply;
import dev.taskid.client.TaskIds;
import dev.taskid.json.Json;
import dev.taskid.json.JsonWriter;
import dev.taskid.json.Timestamps;
import dev.taskid.options.Option;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.TaskIdException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** {@code taskid reserve PREFIX [COUNT]}: in seed 000's shape, seed 001's, or verbose. */
final class ReserveCommand implements Command {
    private static final Set<String> FORMATS = Set.of("seed000", "seed001", "verbose");

    private static final Spec SPEC = new Spec(
            "reserve",
            "reserve PREFIX [COUNT] [--purpose TEXT] [--agent NAME] [--key KEY] [--verbose] [--format seed000|seed001|verbose]",
            "Reserve COUNT (default 1) consecutive IDs, atomically and durably. Prints {\"ids\":[...],\"reservedAt\":...}.\n"
                    + "--key makes retries safe: the same key and arguments return the same IDs.",
            List.of(
                    Option.valued("--purpose", "TEXT", "why, for the audit log"),
                    Option.valued("--agent", "NAME", "who, for the audit log (default: the per-user config's agent)"),
                    Option.valued("--key", "KEY", "idempotency key: a retry with the same key gets the same IDs"),
                    Option.flag("--verbose", "same as --format verbose"),
                    Option.valued("--format", "seed000|seed001|verbose", "the output's shape (default seed000)")));

    @Override
    public Spec spec() {
        return SPEC;
    }

    @Override
    public int run(Context c) {
        List<String> rest = c.rest();
        if (rest.isEmpty() || rest.size() > 2) {
            throw new UsageException("reserve takes PREFIX and an optional COUNT");
        }
        String format =
                c.flag("--verbose") ? "verbose" : c.option("--format") == null ? "seed000" : c.option("--format");
        if (!FORMATS.contains(format)) {
            throw new UsageException("--format must be seed000, seed001 or verbose");
        }
        Output o = c.output();
        long count = 1;
        if (rest.size() == 2) {
            try {
                count = Long.parseLong(rest.get(1));
            } catch (NumberFormatException e) {
                return o.fail(
                        ErrorCode.INVALID_COUNT,
                        "count must be a positive integer, got \"" + rest.get(1) + "\"",
                        false,
                        Map.of());
            }
        }
        long started = System.nanoTime();
        Reply reply = callCatching(
                c.ids(),
                new Request.Reserve(
                        null,
                        rest.get(0),
                        count,
                        c.option("--purpose"),
                        c.option("--agent") != null
                                ? c.option("--agent")
                                : c.user().agent().orElse(null),
                        c.option("--key")));
        o.notice(reply);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        if (reply.response() instanceof Response.Failure f) {
            if (format.equals("seed001")) {
                c.out().println(new String(seed001Error(o.codec(), f, tookMs), StandardCharsets.UTF_8));
                c.out().flush();
            }
            return o.fail(f);
        }
        Response.Reserved r = (Response.Reserved) reply.response();
        // JsonWriter (the bytes Jackson's generator writes): the success line of a call through
        // a daemon then loads no Jackson class (docs/BENCHMARKS.md, "CLI start-up, session 7").
        JsonWriter w = new JsonWriter(256).startObject();
        switch (format) {
            case "seed001":
                w.field("status", "success")
                        .numbers("allocated_numbers", r.numbers())
                        .field("allocation_count", r.numbers().size())
                        // the first number handed out is the seed's "next" before; with wrap it is mod N
                        .field("previous_next_number", r.numbers().get(0))
                        .field("new_next_number", r.next())
                        .field("lock_acquired", true)
                        .field("lock_duration_ms", tookMs)
                        .name("timestamp")
                        .timestamp(r.reservedAt());
                break;
            case "verbose":
                w.strings("ids", r.ids())
                        .name("reservedAt")
                        .timestamp(r.reservedAt())
                        .field("prefix", r.prefix())
                        .numbers("numbers", r.numbers())
                        .field("previous", r.previous())
                        .field("counter", r.counter())
                        .field("next", r.next())
                        .field("replayed", r.replayed())
                        .field("mode", reply.mode().wireName())
                        .field("lockWaitMs", reply.lockWaitMillis());
                break;
            default:
                w.strings("ids", r.ids()).name("reservedAt").timestamp(r.reservedAt());
        }
        byte[] line = w.endObject().toBytes();
        c.out().println(new String(line, StandardCharsets.UTF_8));
        return Context.OK;
    }

    /**
     * {@code ids.call}, with failures that arrive as exceptions (LOCK_TIMEOUT, STATE_CORRUPT)
     * turned into a failure reply, so that seed 001's callers still read them from stdout.
     */
    private static Reply callCatching(TaskIds ids, Request request) {
        try {
            return ids.call(request);
        } catch (TaskIdException e) {
            return new Reply(
                    new Response.Failure(
                            null, e.code(), e.getMessage(), e.code().retryByDefault(), e.details()),
                    Mode.FALLBACK,
                    0,
                    Optional.empty());
        }
    }

    private static byte[] seed001Error(Json json, Response.Failure f, long tookMs) {
        return json.write(g -> {
            g.writeStartObject();
            g.writeStringField("status", "error");
            Json.writeValue(g, "allocated_numbers", List.of());
            g.writeNumberField("allocation_count", 0);
            g.writeBooleanField("lock_acquired", f.code() != ErrorCode.LOCK_TIMEOUT);
            g.writeNumberField("lock_duration_ms", tookMs);
            g.writeStringField("timestamp", Timestamps.format(Instant.now()));
            g.writeObjectFieldStart("error");
            g.writeStringField("code", f.code().name());
            g.writeStringField("message", f.message());
            Json.writeValue(g, "details", f.details());
            g.writeEndObject();
            g.writeBooleanField("retry_suggested", f.retry());
            g.writeEndObject();
        });
    }
}
