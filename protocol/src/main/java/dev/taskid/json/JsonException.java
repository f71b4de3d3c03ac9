package dev.taskid.json;

/**
 * Text that is not the JSON its reader expects: malformed, a duplicate key, trailing data, or
 * a field of the wrong type. Checked, so that every reader of a file decides what a corrupt one
 * means (refuse, rebuild a cache, skip a line) instead of guessing.
 */
public final class JsonException extends Exception {
    public JsonException(String message) {
        super(message);
    }
}
