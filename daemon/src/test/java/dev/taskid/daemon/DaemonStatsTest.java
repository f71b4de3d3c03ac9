package dev.taskid.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.RequestId;
import dev.taskid.protocol.Response;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The counters behind {@code stats}: requests by op and errors by code, only those seen, sorted. */
class DaemonStatsTest {
    @Test
    void requestsAndErrorsAreCountedByOpAndCode() {
        Instant t = Instant.parse("2026-12-01T10:00:00Z");
        DaemonStats stats = new DaemonStats(t);
        Response reserved =
                new Response.Reserved(RequestId.of(1), "SEC", List.of("SEC-1"), List.of(1L), 0, 1, 2, t, false);
        stats.answered("reserve", reserved);
        stats.answered("reserve", reserved);
        stats.answered("ping", new Response.Pong(null));
        stats.answered("invalid", Response.Failure.of(null, ErrorCode.BAD_REQUEST, "x"));
        stats.answered("frobnicate", Response.Failure.of(null, ErrorCode.UNKNOWN_OP, "x"));
        stats.answered("set", Response.Failure.of(null, ErrorCode.NUMBER_CONFLICT, "x"));
        Map<String, Object> m = stats.snapshot(t, null, 1, "e");
        assertEquals(Map.of("frobnicate", 1L, "invalid", 1L, "ping", 1L, "reserve", 2L, "set", 1L), m.get("requests"));
        assertEquals(
                List.of("frobnicate", "invalid", "ping", "reserve", "set"),
                List.copyOf(((Map<?, ?>) m.get("requests")).keySet()),
                "sorted by op");
        assertEquals(Map.of("BAD_REQUEST", 1L, "NUMBER_CONFLICT", 1L, "UNKNOWN_OP", 1L), m.get("errors"));
        assertEquals(1L, m.get("numberConflicts"));
        assertEquals(2L, m.get("idsAllocated"));
    }
}
