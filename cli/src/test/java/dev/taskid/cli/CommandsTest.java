package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.cli.command.Command;
import java.io.IOException;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Commands makes a command only when it is called (a name switch): every name it lists makes
 * the command of that name, and every command class of the CLI is reachable by its name.
 */
class CommandsTest {
    @Test
    void everyNameMakesTheCommandOfThatName() {
        assertEquals(new HashSet<>(Commands.NAMES).size(), Commands.NAMES.size(), "names are distinct");
        for (String name : Commands.NAMES) {
            Command c = Commands.byName(name).orElseThrow(() -> new AssertionError("no command for " + name));
            assertEquals(name, c.spec().name());
        }
        assertTrue(Commands.byName("no-such-command").isEmpty());
        assertTrue(Commands.byName("").isEmpty());
    }

    @Test
    void everyCommandClassIsListed() throws Exception {
        Set<String> made = new TreeSet<>();
        for (Command c : Commands.all()) {
            made.add(c.getClass().getName());
        }
        assertEquals(commandClasses(), made, "a Command class missing from Commands.NAMES or its switch");
    }

    /** The concrete Command classes among the CLI module's compiled classes. */
    private static Set<String> commandClasses() throws IOException, ClassNotFoundException {
        Path classes = Path.of(Command.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .getPath());
        Set<String> found = new TreeSet<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(classes)) {
            files = walk.filter(p -> p.toString().endsWith(".class")).toList();
        }
        for (Path p : files) {
            String name = classes.relativize(p).toString().replace('/', '.').replaceAll("\\.class$", "");
            Class<?> k = Class.forName(name, false, CommandsTest.class.getClassLoader());
            if (Command.class.isAssignableFrom(k) && !k.isInterface() && !Modifier.isAbstract(k.getModifiers())) {
                found.add(name);
            }
        }
        assertTrue(found.size() >= 20, "found the command classes in " + classes + ": " + found);
        return found;
    }
}
