package dev.taskid.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layout docs/ARCHITECTURE.md draws, checked on the main sources of every module by a plain
 * scan of their imports and fully qualified names: no package cycles, each module uses only the
 * modules below it, and Netty stays in the daemon.
 */
class ArchitectureTest {
    /** What each module's main code may use, besides itself and the JDK. */
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "protocol", Set.of(),
            "core", Set.of("protocol"),
            "client", Set.of("protocol", "core"),
            "cli", Set.of("protocol", "core", "client"),
            "daemon", Set.of("protocol", "core"),
            "backend-postgres", Set.of("protocol", "core"));

    private static final Pattern REFERENCE =
            Pattern.compile("\\b(dev\\.taskid\\.[a-z][a-z0-9]*(?:\\.[a-z][a-z0-9]*)*)\\.[A-Z]");
    private static final Pattern PACKAGE = Pattern.compile("^package ([a-z0-9.]+);", Pattern.MULTILINE);

    private record Source(String module, String pkg, String text) {}

    private static final List<Source> SOURCES = new ArrayList<>();
    private static final Map<String, String> MODULE_OF_PACKAGE = new TreeMap<>();

    @BeforeAll
    static void scan() throws IOException {
        Path root = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();
        for (String module : ALLOWED.keySet()) {
            Path src = root.resolve(module).resolve("src/main/java");
            try (Stream<Path> files = Files.walk(src)) {
                files.filter(f -> f.toString().endsWith(".java")).forEach(f -> {
                    String text = read(f);
                    Matcher m = PACKAGE.matcher(text);
                    assertTrue(m.find(), "no package line in " + f);
                    SOURCES.add(new Source(module, m.group(1), text));
                    String before = MODULE_OF_PACKAGE.put(m.group(1), module);
                    assertTrue(
                            before == null || before.equals(module),
                            "package " + m.group(1) + " is split over " + before + " and " + module);
                });
            }
        }
        assertTrue(SOURCES.size() > 50, "found only " + SOURCES.size() + " sources under " + root);
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Package -> the taskid packages it refers to (never itself). */
    private static Map<String, Set<String>> packageGraph() {
        Map<String, Set<String>> graph = new TreeMap<>();
        for (Source s : SOURCES) {
            Set<String> uses = graph.computeIfAbsent(s.pkg(), p -> new TreeSet<>());
            Matcher m = REFERENCE.matcher(s.text());
            while (m.find()) {
                String used = m.group(1);
                if (!used.equals(s.pkg()) && MODULE_OF_PACKAGE.containsKey(used)) {
                    uses.add(used);
                }
            }
        }
        return graph;
    }

    @Test
    void noPackageCycles() {
        Map<String, Set<String>> graph = packageGraph();
        List<String> cycles = new ArrayList<>();
        for (String start : graph.keySet()) {
            for (String next : graph.get(start)) {
                if (reaches(graph, next, start, new TreeSet<>())) {
                    cycles.add(start + " -> " + next + " -> ... -> " + start);
                }
            }
        }
        assertEquals(List.of(), cycles, "package cycles");
    }

    private static boolean reaches(Map<String, Set<String>> graph, String from, String to, Set<String> seen) {
        if (from.equals(to)) {
            return true;
        }
        if (!seen.add(from)) {
            return false;
        }
        for (String next : graph.getOrDefault(from, Set.of())) {
            if (reaches(graph, next, to, seen)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void modulesUseOnlyTheModulesBelowThem() {
        List<String> violations = new ArrayList<>();
        packageGraph().forEach((pkg, uses) -> {
            String module = MODULE_OF_PACKAGE.get(pkg);
            for (String used : uses) {
                String usedModule = MODULE_OF_PACKAGE.get(used);
                if (!usedModule.equals(module) && !ALLOWED.get(module).contains(usedModule)) {
                    violations.add(module + " (" + pkg + ") uses " + usedModule + " (" + used + ")");
                }
            }
        });
        assertEquals(List.of(), violations);
    }

    @Test
    void nettyOnlyInTheDaemon() {
        List<String> violations = SOURCES.stream()
                .filter(s -> !s.module().equals("daemon") && s.text().contains("io.netty."))
                .map(s -> s.module() + ": " + s.pkg())
                .distinct()
                .toList();
        assertEquals(List.of(), violations);
    }
}
