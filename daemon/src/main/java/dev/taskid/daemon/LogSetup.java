package dev.taskid.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import dev.taskid.json.Timestamps;
import java.time.Instant;

/**
 * The daemon's logging, set up in code (by {@link LogProvider}, or found by logback as a service
 * when logback configures itself, as in tests): one line per event on
 * stderr, no colours (the journal and pipes read it), {@code 2026-12-01T10:00:00.000Z INFO  Daemon: message},
 * then the exception's stack trace if any; io.netty at WARN; the level from TASKID_LOG_LEVEL or
 * taskid.log.level (default INFO). Code instead of a logback.xml: Joran's XML parsing loaded
 * ~1,000 classes and took a quarter of the daemon's start. A {@code logback.configurationFile}
 * named by the user still wins.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogSetup extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        Line layout = new Line();
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        context.getLogger("io.netty").setLevel(Level.WARN);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(setting("TASKID_LOG_LEVEL", setting("taskid.log.level", "INFO")), Level.INFO));
        root.addAppender(stderr);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** As logback's ${name} looks it up: a system property, else an environment variable. */
    private static String setting(String name, String otherwise) {
        String v = System.getProperty(name);
        if (v == null) {
            v = System.getenv(name);
        }
        return v == null || v.isEmpty() ? otherwise : v;
    }

    /** {@code %d{yyyy-MM-dd'T'HH:mm:ss.SSSX,UTC} %-5level %logger{0}: %msg%n}, and the stack trace. */
    static final class Line extends LayoutBase<ILoggingEvent> {
        @Override
        public String doLayout(ILoggingEvent event) {
            StringBuilder s = new StringBuilder(128);
            s.append(Timestamps.format(Instant.ofEpochMilli(event.getTimeStamp())))
                    .append(' ');
            String level = event.getLevel().toString();
            s.append(level);
            for (int i = level.length(); i < 5; i++) {
                s.append(' ');
            }
            String logger = event.getLoggerName();
            s.append(' ')
                    .append(logger, logger.lastIndexOf('.') + 1, logger.length())
                    .append(": ");
            s.append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                s.append(ThrowableProxyUtil.asString(thrown)).append(CoreConstants.LINE_SEPARATOR);
            }
            return s.toString();
        }
    }
}
