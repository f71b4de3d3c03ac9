package dev.taskid.server;

import dev.taskid.protocol.Request;
import dev.taskid.protocol.Response;

/**
 * One line from a client: the request it decoded to, or the failure to answer instead.
 * Failures travel the same queue as requests so that answers keep the order of the lines.
 * {@code closeAfter}: close the connection once this is answered.
 */
public record Inbound(Request request, Response.Failure failure, boolean closeAfter) {

    public static Inbound of(Request request) {
        return new Inbound(request, null, false);
    }

    public static Inbound failed(Response.Failure failure, boolean closeAfter) {
        return new Inbound(null, failure, closeAfter);
    }
}
