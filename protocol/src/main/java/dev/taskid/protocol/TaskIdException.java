package dev.taskid.protocol;

import java.util.Map;

/** A failure with a stable code, thrown where a response cannot simply be returned. */
public final class TaskIdException extends RuntimeException {
    private final ErrorCode code;
    private final Map<String, Object> details;

    public TaskIdException(ErrorCode code, String message) {
        this(code, message, Map.of(), null);
    }

    public TaskIdException(ErrorCode code, String message, Map<String, Object> details, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.details = Map.copyOf(details);
    }

    public ErrorCode code() {
        return code;
    }

    public Map<String, Object> details() {
        return details;
    }

    /** This failure as the answer to the request {@code id}. */
    public Response.Failure toFailure(RequestId id) {
        return Response.Failure.of(id, code, getMessage(), details);
    }
}
