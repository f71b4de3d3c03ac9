package dev.taskid.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The line codec's garbage per reserve round trip stays small: 1,089-1,123 B with Json's
 * TreeReader and the JsonWriter answer (616 B with the flat-line reader this branch had before
 * TreeReader replaced it), where Jackson's parser and generator per line made it 1,852-1,908 B.
 * The bound leaves room for JIT differences (allocation counts do not depend on load).
 */
class CodecAllocationsTest {
    private static final double MAX_BYTES = 1_300;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aReserveRoundTripAllocatesLittle(boolean direct) {
        double bytes = CodecAllocations.codecBytesPerRequest(direct, 20_000);
        assertTrue(bytes < MAX_BYTES, "the codec allocated " + bytes + " B per request, expected < " + MAX_BYTES);
    }
}
