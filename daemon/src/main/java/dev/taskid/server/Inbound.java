package dev.taskid.server;

import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;

/**
 * One line from a client: the request it decoded to, or the failure to answer instead.
 * Failures take the same path as requests so that answers keep the order of the lines.
 * {@code closeAfter}: close the connection once this is answered.
 */
public record Inbound(Request request, Response.Failure failure, boolean closeAfter) {
    /**
     * The client shut down its sending side: nothing to answer; close the connection once
     * everything it sent before is answered.
     */
    public static final Inbound END_OF_INPUT = new Inbound(null, null, true);

    /** True for {@link #END_OF_INPUT}: it gets no answer of its own. */
    public boolean endOfInput() {
        return request == null && failure == null;
    }

    public static Inbound of(Request request) {
        return new Inbound(request, null, false);
    }

    public static Inbound failed(Response.Failure failure, boolean closeAfter) {
        return new Inbound(null, failure, closeAfter);
    }
}
