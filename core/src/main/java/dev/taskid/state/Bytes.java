package dev.taskid.state;

/** Byte searches over the raw state files (counters.json's carried lines, keys.log). */
final class Bytes {
    private Bytes() {}

    /** Where {@code what} first occurs in {@code bytes[from, to)}, or -1. */
    static int indexOf(byte[] bytes, byte[] what, int from, int to) {
        outer:
        for (int i = from; i + what.length <= to; i++) {
            for (int j = 0; j < what.length; j++) {
                if (bytes[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
