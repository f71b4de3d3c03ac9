package dev.taskid.protocol;

import java.util.Map;

/** A line that cannot be turned into a request or response; carries the code to answer with. */
public final class ProtocolException extends Exception {
    private final ErrorCode code;
    private final RequestId requestId;

    public ProtocolException(ErrorCode code, String message, RequestId requestId) {
        super(message);
        this.code = code;
        this.requestId = requestId;
    }

    public ErrorCode code() {
        return code;
    }

    /** The request's id when it could be read before the problem was found, else null. */
    public RequestId requestId() {
        return requestId;
    }

    public Response.Failure toFailure() {
        return Response.Failure.of(requestId, code, getMessage(), Map.of());
    }
}
