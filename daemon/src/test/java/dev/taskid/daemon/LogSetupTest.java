package dev.taskid.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The daemon's log lines keep the format logback.xml gave them: time, padded level, simple logger name, message. */
class LogSetupTest {
    @Test
    void linesLookAsBefore() {
        LoggerContext context = new LoggerContext();
        Logger logger = context.getLogger("dev.taskid.daemon.Daemon");
        LoggingEvent event = new LoggingEvent("x", logger, Level.INFO, "serving {}", null, new Object[] {"/s"});
        event.setTimeStamp(Instant.parse("2026-12-01T10:00:00.123Z").toEpochMilli());
        assertEquals(
                "2026-12-01T10:00:00.123Z INFO  Daemon: serving /s" + System.lineSeparator(),
                new LogSetup.Line().doLayout(event));
        LoggingEvent failed =
                new LoggingEvent("x", logger, Level.ERROR, "boom", new IllegalStateException("why"), null);
        String text = new LogSetup.Line().doLayout(failed);
        assertTrue(
                text.contains(" ERROR Daemon: boom" + System.lineSeparator() + "java.lang.IllegalStateException: why"),
                text);
    }

    @Test
    void theRootLevelAndNettysComeFromTheSetup() {
        LoggerContext context = new LoggerContext();
        System.setProperty("taskid.log.level", "DEBUG");
        try {
            new LogSetup().configure(context);
        } finally {
            System.clearProperty("taskid.log.level");
        }
        assertEquals(Level.DEBUG, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
        assertEquals(Level.WARN, context.getLogger("io.netty").getLevel());
        assertTrue(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR") != null);
    }
}
