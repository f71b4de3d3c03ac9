package dev.taskid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.cli.command.Spec;
import dev.taskid.options.Option;
import dev.taskid.protocol.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The README's "Commands", global options and "Exit status" say what the command model
 * (Commands: what the parser accepts and --help prints) says: the same commands, each with its
 * options; the same exit statuses with the same error codes. A command or option added to one
 * and not the other fails here.
 */
class CommandDocsTest {
    private static final Pattern CODE = Pattern.compile("\\b[A-Z][A-Z_]{2,}\\b");

    private static String readme() throws IOException {
        return Files.readString(Path.of(System.getProperty("basedir", ""))
                .toAbsolutePath()
                .getParent()
                .resolve("README.md"));
    }

    private static String section(String text, String heading) {
        int start = text.indexOf("\n" + heading + "\n");
        assertTrue(start >= 0, "README has no " + heading);
        int end = text.indexOf("\n#", start + heading.length() + 2);
        return text.substring(start, end < 0 ? text.length() : end);
    }

    /** README "Commands": command name -> the text of its rows. */
    private static Map<String, String> commandRows() throws IOException {
        Matcher row = Pattern.compile("(?m)^\\| `taskid ([a-z-]+)(.*)$").matcher(section(readme(), "## Commands"));
        Map<String, String> rows = new TreeMap<>();
        while (row.find()) {
            rows.merge(row.group(1), row.group(2), (a, b) -> a + "\n" + b);
        }
        return rows;
    }

    @Test
    void readmeListsEveryCommandWithItsOptions() throws Exception {
        Map<String, String> rows = commandRows();
        Set<String> model = new TreeSet<>(Commands.names());
        model.remove("help"); // taskid --help says it
        assertEquals(model, rows.keySet(), "README \"Commands\" rows and the command model");
        List<String> missing = new ArrayList<>();
        for (Spec c : Commands.specs()) {
            for (Option o : c.options()) {
                if (!Pattern.compile("(?<![a-z-])" + o.name() + "(?![a-z-])")
                        .matcher(rows.getOrDefault(c.name(), ""))
                        .find()) {
                    missing.add(c.name() + " " + o.name());
                }
            }
        }
        assertEquals(List.of(), missing, "options the README's command table does not mention");
        String readme = readme();
        for (Option o : Commands.GLOBAL) {
            assertTrue(
                    o == Commands.VERSION
                            || o == Commands.HELP
                            || readme.contains("`" + o.usage() + "`")
                            || readme.contains("`" + o.name() + "`"),
                    "README names the global option " + o.usage());
        }
    }

    @Test
    void everySynopsisShowsExactlyItsOptions() {
        Set<String> global = Commands.GLOBAL.stream().map(Option::name).collect(Collectors.toSet());
        List<String> wrong = new ArrayList<>();
        for (Spec c : Commands.specs()) {
            Set<String> own = c.options().stream().map(Option::name).collect(Collectors.toCollection(TreeSet::new));
            Set<String> shown = new TreeSet<>();
            Matcher m = Pattern.compile("--[a-z][a-z-]*").matcher(c.synopsis());
            while (m.find()) {
                shown.add(m.group());
            }
            for (String o : own) {
                if (!shown.contains(o)) {
                    wrong.add(c.name() + ": synopsis leaves out " + o);
                }
            }
            for (String o : shown) {
                if (!own.contains(o) && !global.contains(o)) {
                    wrong.add(c.name() + ": synopsis shows " + o + ", which it does not accept");
                }
            }
            assertTrue(c.synopsis().startsWith(c.name()), c.synopsis());
        }
        assertEquals(List.of(), wrong);
    }

    /** Every error code is on the row of its exit status, in the model (help, man page) and in the README. */
    @Test
    void exitStatusesAgreeWithTheErrorCodesAndTheReadme() throws Exception {
        Set<String> names =
                Arrays.stream(ErrorCode.values()).map(ErrorCode::name).collect(Collectors.toSet());
        Map<Integer, Set<String>> model = new TreeMap<>();
        for (Commands.ExitStatus e : Commands.EXIT_STATUS) {
            model.put(e.status(), codes(e.meaning(), names));
        }
        Map<Integer, Set<String>> byCode = new TreeMap<>();
        model.keySet().forEach(s -> byCode.put(s, new TreeSet<>()));
        for (ErrorCode c : ErrorCode.values()) {
            byCode.computeIfAbsent(c.exitStatus(), s -> new TreeSet<>()).add(c.name());
        }
        assertEquals(byCode, model, "the exit statuses of the help against ErrorCode.exitStatus()");

        Matcher row = Pattern.compile("(?m)^\\| ([0-9]) \\| (.*) \\|$").matcher(section(readme(), "### Exit status"));
        Map<Integer, Set<String>> readme = new TreeMap<>();
        String no = null;
        while (row.find()) {
            readme.put(Integer.parseInt(row.group(1)), codes(row.group(2), names));
            if (row.group(1).equals("1")) {
                no = row.group(2);
            }
        }
        assertEquals(model, readme, "README \"Exit status\" against the help's");

        // Status 1 ("no" without an error): the same commands in both.
        Set<String> readmeNo = new TreeSet<>();
        Matcher word = Pattern.compile("`([a-z-]+)[^`]*`").matcher(no);
        while (word.find()) {
            readmeNo.add(word.group(1));
        }
        Set<String> modelNo = new TreeSet<>();
        String meaning = Commands.EXIT_STATUS.get(1).meaning();
        for (String clause : meaning.substring(meaning.indexOf(':') + 1).split(",")) {
            modelNo.add(clause.trim().split(" ")[0]);
        }
        assertEquals(modelNo, readmeNo, "the commands whose exit 1 means \"no\"");
        assertTrue(Commands.names().containsAll(modelNo), modelNo.toString());
    }

    private static Set<String> codes(String text, Set<String> names) {
        Set<String> found = new TreeSet<>();
        Matcher m = CODE.matcher(text);
        while (m.find()) {
            if (names.contains(m.group())) {
                found.add(m.group());
            }
        }
        return found;
    }
}
