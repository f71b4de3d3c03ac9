package dev.taskid.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taskid.testing.DaemonProcess;
import dev.taskid.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

    /**
     * Set up by JDK 21+'s Runtime.exit, which asks System.getLogger whether to log the exit
     * (~20 ms of CPU per call on JDK 25): a successful call returns from main instead.
     */
    private static final List<String> NOT_LOADED_AT_EXIT =
            List.of("jdk.internal.logger.BootstrapLogger", "java.lang.System$LoggerFinder");

    @TempDir
    Path tmp;

    @Test
    void aSuccessfulCallOnJdk21OrLaterEndsWithoutTheExitLogging() throws Exception {
        Optional<String> java = jdk21OrLater();
        assumeTrue(java.isPresent(), "no JDK 21+ here (JAVA25_HOME, or the test's own java)");
        Path state = Files.createDirectories(tmp.resolve("repo/.taskid"));
        Files.createDirectories(tmp.resolve("repo/.git"));
        Path log = tmp.resolve("classes.log");
        try (DaemonProcess daemon = DaemonProcess.start(state)) {
            List<String> command = new ArrayList<>(Processes.taskid("--dir", state.toString(), "reserve", "SEC"));
            command.set(0, java.get());
            command.add(1, "-Xlog:class+load=info:file=" + log);
            Processes.Result r = Processes.run(command, state.getParent(), Map.of(), TIMEOUT);
            assertEquals(0, r.status(), r::toString);
            assertTrue(r.stdout().startsWith("{\"ids\":[\"SEC-1\"]"), r::toString);
        }
        List<String> loaded = Files.readAllLines(log);
        assertTrue(loaded.stream().anyMatch(l -> l.contains(" java.lang.Shutdown ")), "the log reaches the exit");
        for (String name : NOT_LOADED_AT_EXIT) {
            assertTrue(loaded.stream().noneMatch(l -> l.contains(" " + name + " ")), name + " was loaded at the exit");
        }
    }

    /** The test's own java if it is 21+, else $JAVA25_HOME's or the Temurin 25 of these machines. */
    private static Optional<String> jdk21OrLater() {
        if (Runtime.version().feature() >= 21) {
            return Optional.of(Processes.java());
        }
        String home = Optional.ofNullable(System.getenv("JAVA25_HOME")).orElse("/usr/lib/jvm/temurin-25-jdk-amd64");
        Path java = Path.of(home, "bin", "java");
        return Files.isExecutable(java) ? Optional.of(java.toString()) : Optional.empty();
    }

    @Test
    void reserveThroughADaemonLoadsNoParserFormatterRegexStartPathLambdaOrSecurityProvider() throws Exception {
        List<String> loaded = reserveThroughADaemon();
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

    /**
     * Session 7: the call makes only its own command (Commands' name switch), and loads no
     * Jackson class but exception types: requests and the answer line are written with JsonWriter, trees
     * read with TreeReader, and Json's factories are built on first use. Fails on the code
     * before (every command class was made for every call; Json's class initialiser built a
     * JsonFactory).
     */
    @Test
    void reserveThroughADaemonLoadsNoOtherCommandAndNoJackson() throws Exception {
        List<String> loaded = reserveThroughADaemon();
        List<String> names = new ArrayList<>();
        for (String line : loaded) {
            String[] words = line.split(" ");
            if (words.length > 1) {
                names.add(words[1]);
            }
        }
        assertTrue(names.contains("dev.taskid.cli.ReserveCommand"), "the log names the command's class");
        // Only the exception types that Json's methods catch (the verifier checks them when
        // the class is linked): cheap, and no Jackson code runs.
        List<String> jackson = names.stream()
                .filter(n -> n.startsWith("com.fasterxml.jackson.") && !n.endsWith("Exception"))
                .toList();
        assertEquals(List.of(), jackson, "Jackson classes loaded on a call through a daemon");
        List<String> commands = names.stream()
                .filter(n -> n.startsWith("dev.taskid.") && n.endsWith("Command") && !n.contains("$"))
                .filter(n -> !n.equals("dev.taskid.cli.ReserveCommand") && !n.equals("dev.taskid.cli.command.Command"))
                .toList();
        assertEquals(List.of(), commands, "command classes other than reserve's");
    }

    /** {@code taskid reserve SEC} through a daemon; the classes it loaded (-Xlog:class+load lines). */
    private List<String> reserveThroughADaemon() throws Exception {
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
        return Files.readAllLines(log);
    }
}
