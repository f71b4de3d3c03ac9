package dev.taskid.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Error codes are a public contract: clients branch on the wire name, scripts on the exit
 * status and retry loops on the flag. This table pins all three; changing one is a breaking
 * change and must be a deliberate edit here (and in docs/PROTOCOL.md and the README).
 */
class ErrorCodeTest {
    private record Contract(boolean retry, int exit) {}

    private static final Map<String, Contract> CONTRACT = new LinkedHashMap<>();

    static {
        CONTRACT.put("BAD_REQUEST", new Contract(false, 2));
        CONTRACT.put("UNKNOWN_OP", new Contract(false, 2));
        CONTRACT.put("LINE_TOO_LONG", new Contract(false, 2));
        CONTRACT.put("INVALID_PREFIX", new Contract(false, 3));
        CONTRACT.put("INVALID_COUNT", new Contract(false, 3));
        CONTRACT.put("INVALID_ID", new Contract(false, 3));
        CONTRACT.put("COUNTER_OVERFLOW", new Contract(false, 3));
        CONTRACT.put("COUNTER_DECREASE", new Contract(false, 3));
        CONTRACT.put("KEY_REUSED", new Contract(false, 3));
        CONTRACT.put("NUMBER_CONFLICT", new Contract(false, 3));
        CONTRACT.put("LOCK_TIMEOUT", new Contract(true, 4));
        CONTRACT.put("STATE_CORRUPT", new Contract(false, 5));
        CONTRACT.put("STATE_MOVED", new Contract(false, 5));
        CONTRACT.put("CONFIG_INVALID", new Contract(false, 5));
        CONTRACT.put("SYSTEM_ERROR", new Contract(true, 6));
        CONTRACT.put("FORBIDDEN", new Contract(false, 7));
        CONTRACT.put("BUSY", new Contract(true, 7));
        CONTRACT.put("PROTOCOL_MISMATCH", new Contract(false, 7));
        CONTRACT.put("DAEMON_UNAVAILABLE", new Contract(true, 7));
        CONTRACT.put("BACKEND_UNAVAILABLE", new Contract(true, 7));
    }

    @Test
    void namesRetryFlagsAndExitStatusesArePinned() {
        Map<String, Contract> actual = new LinkedHashMap<>();
        for (ErrorCode c : ErrorCode.values()) {
            actual.put(c.name(), new Contract(c.retryByDefault(), c.exitStatus()));
        }
        assertEquals(CONTRACT, actual);
    }

    @Test
    void failureOnTheWireCarriesTheNameAndTheRetryFlag() throws Exception {
        ResponseCodec json = new ResponseCodec();
        for (ErrorCode c : ErrorCode.values()) {
            String line = new String(
                    json.encode(Response.Failure.of(RequestId.of(1), c, "m")), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(
                    "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"" + c.name() + "\",\"message\":\"m\",\"retry\":"
                            + c.retryByDefault() + ",\"details\":{}}}",
                    line);
            Response.Failure back =
                    (Response.Failure) json.decode(line.getBytes(java.nio.charset.StandardCharsets.UTF_8), "reserve");
            assertEquals(c, back.code());
            assertEquals(c.retryByDefault(), back.retry());
        }
    }

    /** docs/PROTOCOL.md's table of codes says the same as the code: every code, same retry flag. */
    @Test
    void protocolDocumentListsEveryCodeWithItsRetryFlag() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "PROTOCOL.md"));
        Matcher m = Pattern.compile("(?m)^\\| `([A-Z_]+)` \\| (yes|no) \\|").matcher(doc);
        Map<String, Boolean> documented = new TreeMap<>();
        while (m.find()) {
            documented.put(m.group(1), m.group(2).equals("yes"));
        }
        Map<String, Boolean> code = Arrays.stream(ErrorCode.values())
                .collect(Collectors.toMap(ErrorCode::name, ErrorCode::retryByDefault, (a, b) -> a, TreeMap::new));
        assertEquals(code, documented);
    }

    /** The README's exit status table names every code on the row of its exit status. */
    @Test
    void readmeExitTableMatchesExitStatuses() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher row = Pattern.compile("(?m)^\\| ([0-9]) \\| (.*) \\|$").matcher(readme);
        Map<String, Integer> documented = new TreeMap<>();
        while (row.find()) {
            Matcher code = Pattern.compile("`([A-Z_]+)`").matcher(row.group(2));
            while (code.find()) {
                documented.put(code.group(1), Integer.parseInt(row.group(1)));
            }
        }
        Map<String, Integer> code = Arrays.stream(ErrorCode.values())
                .collect(Collectors.toMap(ErrorCode::name, ErrorCode::exitStatus, (a, b) -> a, TreeMap::new));
        assertEquals(code, documented);
    }
}
