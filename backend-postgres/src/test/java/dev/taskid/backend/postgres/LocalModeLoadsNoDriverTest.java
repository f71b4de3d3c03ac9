package dev.taskid.backend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskid.testing.Processes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local mode (no backend configured) loads no JDBC class, even with the driver on the class path. */
class LocalModeLoadsNoDriverTest {
    @TempDir
    Path tmp;

    @Test
    void aLocalReservationLoadsNoDatabaseClass() {
        Processes.Result r = Processes.run(
                List.of(
                        Processes.java(),
                        "-Xlog:class+load=info",
                        "-cp",
                        Processes.testClassPath(),
                        "dev.taskid.cli.Main",
                        "--dir",
                        tmp.resolve(".taskid").toString(),
                        "reserve",
                        "SEC"),
                tmp,
                Map.of(),
                Duration.ofSeconds(60));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stdout().contains("SEC-1"), r.stdout());
        assertFalse(r.stdout().contains("org.postgresql"), "loaded the driver");
        assertFalse(r.stdout().contains("dev.taskid.backend.postgres"), "loaded the backend");
        assertFalse(r.stdout().contains(" java.sql."), "loaded JDBC");
    }
}
