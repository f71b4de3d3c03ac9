package dev.taskid.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a {@code taskid reserve} through a daemon loads: none of the start-up costs taken out of
 * it (docs/BENCHMARKS.md, "CLI start-up, session 5"). Each of these cost a per-call price:
 * Jackson's parser (on JDK 25 it initialises BigDecimal, ~18 ms), java.time's formatter
 * (~5%), regular expressions (~5%), and the CLI's own lambdas before the request (their
 * call-site linkage on JDK 17); and, to open the socket (session 6), the JDK's security
 * providers (the SUN provider and its KnownOIDs table, ~15-30 ms, for a random the client never
 * uses) and the selector-provider lookup on the class path (dev.taskid.client.UnixChannels).
 * The classes loaded are what -Xlog:class+load reports.
 */
class CliStartPathTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    private static final List<String> NOT_LOADED = List.of(
            "com.fasterxml.jackson.core.json.UTF8StreamJsonParser",
            "java.time.format.DateTimeFormatterBuilder",
            "java.util.regex.Pattern",
            "dev.taskid.cli.Cli$$Lambda",
            "dev.taskid.cli.Commands$$Lambda",
            "dev.taskid.cli.command.Output$$Lambda",
            "dev.taskid.options.OptionParser$$Lambda",
            "dev.taskid.state.SocketDir$$Lambda",
            "sun.security.provider.Sun",
            "sun.security.util.KnownOIDs",
            "java.nio.channels.spi.SelectorProvider$Holder");

    @TempDir
    Path tmp;

    @Test
    void reserveThroughADaemonLoadsNoParserFormatterRegexStartPathLambdaOrSecurityProvider() throws Exception {
        Path state = Files.createDirectories(tmp.resolve("repo/.taskid"));
        Files.createDirectories(tmp.resolve("repo/.git"));
        Path log = tmp.resolve("classes.log");
        try (DaemonProcess daemon = DaemonProcess.start(state)) {
            List<String> command = new ArrayList<>(Processes.taskid("--dir", state.toString(), "reserve", "SEC"));
            command.add(1, "-Xlog:class+load=info:file=" + log);
            Processes.Result r = Processes.run(command, state.getParent(), Map.of(), TIMEOUT);
            assertEquals(0, r.status(), r::toString);
            assertTrue(r.stdout().startsWith("{\"ids\":[\"SEC-1\"]"), r::toString);
        }
        List<String> loaded = Files.readAllLines(log);
        assertTrue(
                loaded.stream().anyMatch(l -> l.contains(" dev.taskid.client.DaemonConnection ")),
                "the call went through the daemon's socket");
        for (String name : NOT_LOADED) {
            assertTrue(
                    loaded.stream()
                            .noneMatch(l -> l.contains(" " + name + " ")
                                    || l.contains(" " + name + "$")
                                    || l.contains(" " + name + "/")),
                    name + " was loaded on the way to the daemon");
        }
    }
}
