package dev.taskid.options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one parser of the CLI's and the daemon's command lines. */
class OptionParserTest {
    private static final List<Option> OPTIONS = List.of(
            Option.valued("--dir", "PATH", "d"),
            Option.flag("--json", "j"),
            Option.flag("--help", "h").withAlias("-h"));

    @Test
    void splitsOptionsFromPositionalsInAnyOrder() {
        ParsedArgs a = OptionParser.parse(List.of("set", "--dir", "x", "SEC", "-3", "--json", "-h", "-"), OPTIONS);
        assertEquals(List.of("set", "SEC", "-3", "-"), a.positionals(), "a negative number is a word, not an option");
        assertEquals(Map.of("--dir", "x", "--json", "true", "--help", "true"), a.values());
        assertEquals("x", a.value("--dir"));
        assertTrue(a.flag("--help"), "an alias is stored under the option's name");

        ParsedArgs b = OptionParser.parse(List.of("--dir=a=b", "--", "--json", "--frob"), OPTIONS);
        assertEquals("a=b", b.value("--dir"));
        assertFalse(b.flag("--json"), "after --, every word is positional");
        assertEquals(List.of("--json", "--frob"), b.positionals());
    }

    @Test
    void undeclaredOptionsMissingValuesAndValuedFlagsAreRefused() {
        assertEquals(
                "unknown option --jsno (did you mean \"--json\"?)",
                assertThrows(OptionException.class, () -> OptionParser.parse(List.of("--jsno"), OPTIONS))
                        .getMessage());
        assertEquals(
                "--json takes no value",
                assertThrows(OptionException.class, () -> OptionParser.parse(List.of("--json=1"), OPTIONS))
                        .getMessage());
        assertEquals(
                "--dir needs a value",
                assertThrows(OptionException.class, () -> OptionParser.parse(List.of("x", "--dir"), OPTIONS))
                        .getMessage());
        assertEquals("--dir PATH", OPTIONS.get(0).usage());
        assertThrows(IllegalArgumentException.class, () -> Option.flag("json", "no dash"));
    }
}
