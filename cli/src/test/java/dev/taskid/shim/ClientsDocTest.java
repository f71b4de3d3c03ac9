package dev.taskid.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/CLIENTS.md shows the example clients in full; the files in docs/clients/ are the ones the
 * daemon module's tests run. They must be identical. After editing an example, refresh the
 * copies with {@code mvn -q test -pl client -am -Dtest=ClientsDocTest -Dtaskid.updateDocs=true
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class ClientsDocTest {
    static final List<String> EXAMPLES = List.of("taskid_client.py", "taskid-client.js", "taskid-reserve.sh");

    static Path repoRoot() {
        return Path.of(System.getProperty("basedir", "")).toAbsolutePath().getParent();
    }

    @Test
    void clientsMdHoldsExactlyTheTestedExampleFiles() throws IOException {
        Path doc = repoRoot().resolve("docs/CLIENTS.md");
        String text = Files.readString(doc, StandardCharsets.UTF_8);
        String updated = text;
        for (String name : EXAMPLES) {
            String file = Files.readString(repoRoot().resolve("docs/clients/" + name), StandardCharsets.UTF_8);
            Pattern block = Pattern.compile(
                    "(<summary>docs/clients/" + Pattern.quote(name)
                            + "</summary>\\n\\n```[a-z]+\\n)(.*?)(```\\n</details>)",
                    Pattern.DOTALL);
            Matcher m = block.matcher(updated);
            assertTrue(m.find(), "docs/CLIENTS.md has no block for docs/clients/" + name);
            if (Boolean.getBoolean("taskid.updateDocs")) {
                updated = updated.substring(0, m.start(2)) + file + updated.substring(m.end(2));
            } else {
                assertEquals(
                        file,
                        m.group(2),
                        "docs/CLIENTS.md's copy of docs/clients/" + name
                                + " differs; refresh it (see this test's javadoc)");
            }
        }
        if (!updated.equals(text)) {
            Files.writeString(doc, updated, StandardCharsets.UTF_8);
        }
    }

    @Test
    void theExamplesAreExecutable() {
        for (String name : EXAMPLES) {
            assertTrue(Files.isExecutable(repoRoot().resolve("docs/clients/" + name)), name);
        }
    }
}
