package dev.taskid.daemon;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LogbackServiceProvider;
import ch.qos.logback.core.CoreConstants;

/**
 * slf4j's provider for the daemon: logback's, with its context configured by {@link LogSetup}
 * directly instead of by logback's auto-configuration, which looks for configurators with a
 * service lookup in the 4.7 MB jar, checks versions (regular expressions, Formatter), reads
 * each configurator's rank annotation (a proxy class made at run time) and loads java.time
 * for its status printer: ~40-50 ms of CPU before the daemon's first log line. Named through
 * {@code slf4j.provider} by {@link #select()} (which also spares slf4j its own service lookup);
 * the lines, levels and destination are LogSetup's either way.
 */
public final class LogProvider extends LogbackServiceProvider {
    static final String PROVIDER = "slf4j.provider";

    @Override
    public void initialize() {
        LoggerContext context = (LoggerContext) getLoggerFactory();
        context.setName(CoreConstants.DEFAULT_CONTEXT_NAME);
        context.setMDCAdapter(getMDCAdapter());
        new LogSetup().configure(context);
        context.start();
    }

    /**
     * Makes this the provider of the process, before anything logs, unless the user named one or
     * a logback configuration file (then logback configures itself as usual, LogSetup included
     * as its configurator). slf4j announces a provider named this way on stderr at its INFO
     * level: its own messages from WARN up only, unless the user chose a verbosity.
     */
    static void select() {
        if (System.getProperty(PROVIDER) == null && System.getProperty("logback.configurationFile") == null) {
            System.setProperty(PROVIDER, LogProvider.class.getName());
            if (System.getProperty("slf4j.internal.verbosity") == null) {
                System.setProperty("slf4j.internal.verbosity", "WARN");
            }
        }
    }
}
