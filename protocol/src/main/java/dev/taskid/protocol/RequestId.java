package dev.taskid.protocol;

import java.util.Objects;

/**
 * The optional correlation id of a request, echoed in its response exactly as sent: a JSON
 * string or a JSON integer.
 */
public record RequestId(String text, boolean numeric) {
    public RequestId {
        Objects.requireNonNull(text, "text");
    }

    public static RequestId of(String text) {
        return new RequestId(text, false);
    }

    public static RequestId of(long number) {
        return new RequestId(Long.toString(number), true);
    }

    @Override
    public String toString() {
        return numeric ? text : '"' + text + '"';
    }
}
