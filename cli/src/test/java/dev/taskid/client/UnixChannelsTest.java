package dev.taskid.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.net.StandardProtocolFamily;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's first socket without the security providers' start-up (docs/BENCHMARKS.md, "CLI
 * start-up, session 6"): with the exports the CLI jar's manifest gives, opening a Unix-domain
 * channel loads neither the SUN provider nor KnownOIDs nor the selector-provider lookup, and the
 * JDK's socket random still works when it is needed (a bind to null), from the JDK's own
 * provider; without the exports (a library in someone's JVM, these tests' own JVM) the JDK's
 * public way is taken.
 */
class UnixChannelsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void theJarsManifestTheTestsAndUnixChannelsExportTheSamePackages() throws Exception {
        Matcher m = Pattern.compile("<Add-Exports>([^<]*)</Add-Exports>").matcher(Files.readString(Path.of("pom.xml")));
        assertTrue(m.find(), "cli/pom.xml has no Add-Exports manifest entry");
        assertEquals(String.join(" ", UnixChannels.EXPORTS), m.group(1).trim());
        assertEquals(UnixChannels.EXPORTS, Processes.CLI_EXPORTS);
    }

    @Test
    void withoutTheExportsTheJdksPublicWayOpensTheChannel() throws Exception {
        UnixChannels channels = UnixChannels.create();
        assertFalse(channels.internals(), "these tests' JVM exports nothing: the public way");
        try (SocketChannel ch = channels.openSocket();
                Selector selector = channels.openSelector()) {
            assertTrue(ch.isOpen() && !ch.isConnected());
            assertTrue(selector.isOpen());
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            assertTrue(ch.isOpen());
        }
    }

    @Test
    void withTheExportsTheFirstSocketLoadsNoProviderAndTheJdksRandomStillServes() throws Exception {
        Path log = tmp.resolve("classes.log");
        List<String> cmd = new ArrayList<>(List.of(Processes.java(), "-Xlog:class+load=info:file=" + log));
        for (String export : UnixChannels.EXPORTS) {
            cmd.addAll(List.of("--add-exports", export + "=ALL-UNNAMED"));
        }
        cmd.addAll(List.of(
                "-Djdk.net.unixdomain.tmpdir=" + tmp,
                "-cp",
                Processes.testClassPath(),
                UnixChannelsProbe.class.getName()));
        Processes.Result r = Processes.run(cmd, tmp, Map.of(), TIMEOUT);
        assertEquals(0, r.status(), r::toString);
        assertTrue(r.stdout().contains("internals true open true"), r::toString);
        assertTrue(r.stdout().contains("bound " + tmp), "bound to a temporary name in tmp: " + r);

        List<String> loaded = Files.readAllLines(log);
        int opened = indexOf(loaded, UnixChannelsProbe.Opened.class.getName());
        assertTrue(opened > 0, "the marker class was loaded");
        for (String name : List.of(
                "sun.security.provider.Sun",
                "sun.security.util.KnownOIDs",
                "java.nio.channels.spi.SelectorProvider$Holder")) {
            int at = indexOf(loaded, name);
            assertTrue(at < 0 || at > opened, name + " was loaded to open the client's socket");
        }
        assertTrue(
                indexOf(loaded, "sun.security.provider.Sun") > opened,
                "the bind to null took its random from the JDK's own provider");
    }

    private static int indexOf(List<String> classLoadLog, String name) {
        for (int i = 0; i < classLoadLog.size(); i++) {
            if (classLoadLog.get(i).contains(" " + name + " ")) {
                return i;
            }
        }
        return -1;
    }
}
