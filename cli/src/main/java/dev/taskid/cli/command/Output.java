package dev.taskid.cli.command;

import dev.taskid.client.Reply;
import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.ResponseCodec;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Where a command's results and diagnostics go, and how: results on stdout (one JSON object
 * under {@code --json}), errors on stderr as text or, under {@code --json}, as one failure
 * line, each mapped to its exit status. The one place every command prints through.
 */
public final class Output {
    private final PrintStream out;
    private final PrintStream err;
    private final boolean json;
    private final Json codec = new Json();
    private final ResponseCodec responses = new ResponseCodec();

    public Output(PrintStream out, PrintStream err, boolean json) {
        this.out = out;
        this.err = err;
        this.json = json;
    }

    public PrintStream out() {
        return out;
    }

    public PrintStream err() {
        return err;
    }

    /** Whether {@code --json} was given (before any {@code --}): JSON on every exit path. */
    public boolean json() {
        return json;
    }

    public Json codec() {
        return codec;
    }

    /** Prints {@code fields} as one JSON object on stdout, in their order. */
    public void object(Map<String, ?> fields) {
        out.println(new String(
                codec.write(g -> {
                    g.writeStartObject();
                    for (Map.Entry<String, ?> e : fields.entrySet()) {
                        Json.writeValue(g, e.getKey(), e.getValue());
                    }
                    g.writeEndObject();
                }),
                StandardCharsets.UTF_8));
    }

    /** Prints a response as its wire JSON on stdout. */
    public void response(Response r) {
        out.println(new String(responses.encode(r), StandardCharsets.UTF_8));
    }

    /** The notice a reply carries (e.g. "answered from a rewound counters.json"), on stderr. */
    public void notice(Reply reply) {
        if (reply.notice().isPresent()) {
            err.println(reply.notice().get());
        }
    }

    /** Reports a failure reply; returns its exit status. */
    public int fail(Response.Failure f) {
        return fail(f.code(), f.message(), f.retry(), f.details());
    }

    /** Reports an error with the code's own retry flag; returns its exit status. */
    public int fail(ErrorCode code, String message, Map<String, Object> details) {
        return fail(code, message, code.retryByDefault(), details);
    }

    /** Reports an error: {@code taskid: CODE: message}, or its JSON failure line; returns its exit status. */
    public int fail(ErrorCode code, String message, boolean retry, Map<String, Object> details) {
        if (json) {
            err.println(new String(
                    responses.encode(new Response.Failure(null, code, message, retry, details)),
                    StandardCharsets.UTF_8));
        } else {
            err.println("taskid: " + code + ": " + message);
        }
        return code.exitStatus();
    }
}
