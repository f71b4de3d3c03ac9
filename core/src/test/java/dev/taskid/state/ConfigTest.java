package dev.taskid.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.json.Json;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskIdException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** .taskid/config.json: defaults, every field, and a clear CONFIG_INVALID for every bad value. */
class ConfigTest {
    private final Json json = new Json();

    @TempDir
    Path tmp;

    private Path file() {
        return tmp.resolve("config.json");
    }

    private Config load(String text) throws Exception {
        Files.writeString(file(), text);
        return Config.load(file(), json);
    }

    private TaskIdException invalid(String text) throws Exception {
        Files.writeString(file(), text);
        TaskIdException e = assertThrows(TaskIdException.class, () -> Config.load(file(), json), text);
        assertEquals(ErrorCode.CONFIG_INVALID, e.code(), e.getMessage());
        assertTrue(e.getMessage().startsWith(file() + " is invalid: "), "names the file: " + e.getMessage());
        return e;
    }

    @Test
    void defaults() throws Exception {
        Config d = Config.defaults();
        assertEquals(
                List.of(
                        "SEC", "PERF", "UX", "TEST", "DEV", "ARCH", "FIN", "DRY", "DOC", "DS", "MKT", "CNT", "INFRA",
                        "OPS"),
                List.copyOf(d.prefixes()),
                "the issue's list, in its order");
        assertEquals(1000, d.maxBatch());
        assertEquals(Duration.ofSeconds(30), d.lockTimeout());
        assertEquals(Set.of(), d.allowedUids());
        assertEquals(Map.of(), d.prefixOptions());
        assertEquals(new Config.AuditOptions(10L << 20, 5), d.audit());
        assertEquals("SEC-7", d.format("SEC", 7));
        assertEquals(0, d.wrap("SEC"));
        assertEquals(d, Config.load(tmp.resolve("missing.json"), json), "no file: defaults");
        assertEquals(d, load("{}"), "empty object: defaults");
    }

    @Test
    void prefixesReplaceAndExtraPrefixesAdd() throws Exception {
        assertEquals(
                List.of("QA", "SEC"),
                List.copyOf(load("{\"prefixes\":[\"QA\",\"SEC\",\"QA\"]}").prefixes()));
        Config extra = load("{\"extraPrefixes\":[\"QA\",\"P2P\",\"ABCDEFGHIJKLMNOP\"]}");
        assertEquals(Config.DEFAULT_PREFIXES, List.copyOf(extra.prefixes()).subList(0, 14));
        assertEquals(
                List.of("QA", "P2P", "ABCDEFGHIJKLMNOP"),
                List.copyOf(extra.prefixes()).subList(14, 17));
        assertTrue(extra.isValidPrefix("QA"));
        assertFalse(extra.isValidPrefix("qa"));
        assertEquals(
                List.of("A", "B"),
                List.copyOf(
                        load("{\"prefixes\":[\"A\"],\"extraPrefixes\":[\"B\"]}").prefixes()));
    }

    @Test
    void everyNumericFieldIsRead() throws Exception {
        Config c = load("{\"maxBatch\":7,\"lockTimeoutMs\":250,\"allowedUids\":[1001,0],"
                + "\"audit\":{\"maxBytes\":4096,\"keep\":2}}");
        assertEquals(7, c.maxBatch());
        assertEquals(Duration.ofMillis(250), c.lockTimeout());
        assertEquals(Set.of(1001, 0), c.allowedUids());
        assertEquals(new Config.AuditOptions(4096, 2), c.audit());
        assertEquals(Duration.ZERO, load("{\"lockTimeoutMs\":0}").lockTimeout(), "0: try once");
        assertEquals(10_000, load("{\"maxBatch\":10000}").maxBatch());
        assertEquals(
                Duration.ofSeconds(9), c.withLockTimeout(Duration.ofSeconds(9)).lockTimeout());
    }

    @Test
    void prefixOptionsAreRead() throws Exception {
        Config c = load("{\"extraPrefixes\":[\"PROJECT\"],\"prefixOptions\":{\"SEC\":{\"width\":3},"
                + "\"PROJECT\":{\"wrap\":1000,\"bare\":true}}}");
        assertEquals(new Config.PrefixOptions(3, 0, false), c.options("SEC"));
        assertEquals(new Config.PrefixOptions(0, 1000, true), c.options("PROJECT"));
        assertEquals(Config.PrefixOptions.DEFAULT, c.options("UX"));
        assertEquals("SEC-007", c.format("SEC", 7));
        assertEquals("SEC-1234", c.format("SEC", 1234));
        assertEquals("042", c.format("PROJECT", 42));
        assertEquals(1000, c.wrap("PROJECT"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        {                                          | malformed JSON
        []                                         | expected one JSON object
        {"prefixes":"SEC"}                         | prefixes must be an array
        {"prefixes":[]}                            | no prefixes configured
        {"prefixes":["sec"]}                       | invalid prefix sec
        {"prefixes":["1SEC"]}                      | invalid prefix 1SEC
        {"prefixes":["SEC-1"]}                     | invalid prefix SEC-1
        {"prefixes":["ABCDEFGHIJKLMNOPQ"]}         | invalid prefix ABCDEFGHIJKLMNOPQ
        {"prefixes":[""]}                          | invalid prefix
        {"prefixes":[5]}                           | invalid prefix 5
        {"extraPrefixes":["Qa"]}                   | invalid prefix Qa
        {"extraPrefixes":{"QA":1}}                 | must be an array
        {"maxBatch":0}                             | maxBatch must be an integer from 1 to 10000, got 0
        {"maxBatch":10001}                         | maxBatch must be an integer from 1 to 10000
        {"maxBatch":"5"}                           | maxBatch must be an integer
        {"maxBatch":2.5}                           | maxBatch must be an integer
        {"maxBatch":99999999999999999999}          | maxBatch must be an integer
        {"lockTimeoutMs":-1}                       | lockTimeoutMs must be an integer from 0 to 3600000
        {"lockTimeoutMs":3600001}                  | lockTimeoutMs must be an integer from 0 to 3600000
        {"allowedUids":[-1]}                       | allowedUids must be an integer from 0
        {"allowedUids":["root"]}                   | allowedUids must be an integer
        {"allowedUids":[4294967296]}               | allowedUids must be an integer
        {"allowedUids":1001}                       | allowedUids must be an array
        {"prefixOptions":{"QA":{"width":3}}}       | prefixOptions names QA, which is not a configured prefix
        {"prefixOptions":{"SEC":{"width":16}}}     | width must be an integer from 0 to 15
        {"prefixOptions":{"SEC":{"width":-1}}}     | width must be an integer from 0 to 15
        {"prefixOptions":{"SEC":{"wrap":1}}}       | prefixOptions.SEC.wrap must be 0 (no wrap) or from 2 to 10000
        {"prefixOptions":{"SEC":{"wrap":10001}}}   | wrap must be an integer from 0 to 10000
        {"prefixOptions":{"SEC":{"bare":"yes"}}}   | prefixOptions.SEC.bare must be true or false
        {"prefixOptions":{"SEC":3}}                | prefixOptions.SEC must be an object
        {"prefixOptions":["SEC"]}                  | prefixOptions must be an object
        {"audit":5}                                | audit must be an object
        {"audit":{"maxBytes":1023}}                | maxBytes must be an integer from 1024 to 1073741824
        {"audit":{"keep":0}}                       | keep must be an integer from 1 to 100
        {"audit":{"keep":101}}                     | keep must be an integer from 1 to 100
        {"extraPrefix":["QA"]}                     | unknown key "extraPrefix"; did you mean "extraPrefixes"?
        {"lockTimeout":5000}                       | unknown key "lockTimeout"; did you mean "lockTimeoutMs"?
        {"colour":"red"}                           | unknown key "colour" (known: prefixes, extraPrefixes
        {"prefixOptions":{"SEC":{"widht":3}}}      | unknown key "prefixOptions.SEC.widht"; did you mean "prefixOptions.SEC.width"?
        {"audit":{"maxByte":2048}}                 | unknown key "audit.maxByte"; did you mean "audit.maxBytes"?
        """)
    void invalidValuesAreConfigInvalidWithAClearMessage(String text, String expected) throws Exception {
        TaskIdException e = invalid(text);
        assertTrue(e.getMessage().contains(expected), "expected \"" + expected + "\" in: " + e.getMessage());
        assertFalse(e.getMessage().contains("java.lang"), "no Java internals: " + e.getMessage());
    }

    @Test
    void anUnreadableFileIsASystemError() throws Exception {
        Files.createDirectory(file());
        assertEquals(
                ErrorCode.SYSTEM_ERROR,
                assertThrows(TaskIdException.class, () -> Config.load(file(), json))
                        .code());
    }
}
