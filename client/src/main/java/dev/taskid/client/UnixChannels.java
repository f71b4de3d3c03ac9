package dev.taskid.client;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.SecureRandomSpi;
import java.util.List;
import java.util.Map;

/**
 * Opens the client's Unix-domain socket and its selector without two detours the JDK takes on
 * a process's first socket, which were ~15 ms of a ~100 ms CLI call (docs/BENCHMARKS.md, "CLI
 * start-up, session 6"):
 *
 * <ul>
 *   <li>{@link SelectorProvider#provider()} first looks for a provider named by a system
 *       property, then for one on the class path (opening the jar to read META-INF/services),
 *       and only then takes the JDK's default. This takes the default directly: the same
 *       instance {@code provider()} returns when nothing overrides it.
 *   <li>The first Unix-domain channel initialises the JDK's {@code sun.nio.ch.UnixDomainSockets},
 *       whose static {@code SecureRandom.getInstance("NativePRNGNonBlocking")} (used only to
 *       name the socket file of a channel bound to {@code null}, which a client never does)
 *       parses java.security and loads the SUN provider: its hundreds of entries, the KnownOIDs
 *       table, and on JDK 18+ a reflective constructor call that spins method-handle classes.
 *       While this thread opens the channel, its own provider list (the JDK's thread-local
 *       list, {@code sun.security.jca.Providers.beginThreadProviderList}, which jar
 *       verification uses the same way) holds one provider serving that one algorithm with
 *       {@link DeferredRandom}: the JDK's own NativePRNGNonBlocking, looked up through the
 *       process's normal provider list the first time a random byte is asked for. So the
 *       socket code gets exactly the generator it asked for, only later; nothing else sees the
 *       thread's list (no other thread, nothing after the channel is open), and the process's
 *       provider list is neither read nor changed. Nothing else in the CLI uses a provider
 *       before the socket is open; whatever does later (TLS to PostgreSQL, a digest) loads the
 *       providers as usual.
 * </ul>
 *
 * <p>Both need {@code sun.security.jca} and {@code sun.nio.ch} exported to this code: the CLI
 * jar's manifest does that ({@link #EXPORTS}, cli/pom.xml). In any other JVM (this library in
 * someone's program, a JDK without these internals) the first attempt fails to link and every
 * call takes the public API.
 */
final class UnixChannels {
    /** The packages the manifest of the CLI jar must export to it (its Add-Exports entry). */
    static final List<String> EXPORTS = List.of("java.base/sun.nio.ch", "java.base/sun.security.jca");

    /** The algorithm {@code UnixDomainSockets} asks for (JDK 16 to 25). */
    static final String ALGORITHM = "NativePRNGNonBlocking";

    private final SelectorProvider provider;
    private final boolean internals;

    private UnixChannels(SelectorProvider provider, boolean internals) {
        this.provider = provider;
        this.internals = internals;
    }

    /** The JDK's default provider taken directly where this code may, else the public way. */
    static UnixChannels create() {
        try {
            return new UnixChannels(sun.nio.ch.DefaultSelectorProvider.get(), true);
        } catch (LinkageError notExported) {
            return new UnixChannels(SelectorProvider.provider(), false);
        }
    }

    /** Whether the short paths are in use (the packages are exported to this code). */
    boolean internals() {
        return internals;
    }

    /** An unbound, unconnected Unix-domain socket channel (blocking, as opened). */
    SocketChannel openSocket() throws IOException {
        if (internals) {
            try {
                return openWithDeferredRandom();
            } catch (LinkageError notExported) {
                // sun.security.jca not exported (or gone): the JDK's own way, providers and all
            }
        }
        return provider.openSocketChannel(StandardProtocolFamily.UNIX);
    }

    Selector openSelector() throws IOException {
        return provider.openSelector();
    }

    private SocketChannel openWithDeferredRandom() throws IOException {
        sun.security.jca.ProviderList mine = sun.security.jca.ProviderList.newList(new SocketRandomProvider());
        sun.security.jca.ProviderList saved = sun.security.jca.Providers.beginThreadProviderList(mine);
        try {
            return provider.openSocketChannel(StandardProtocolFamily.UNIX);
        } finally {
            sun.security.jca.Providers.endThreadProviderList(saved);
        }
    }

    /** Serves {@link #ALGORITHM} with a {@link DeferredRandom}, built without reflection. */
    static final class SocketRandomProvider extends Provider {
        private static final long serialVersionUID = 1L;

        SocketRandomProvider() {
            super("TaskidSocketRandom", "1", "defers the JDK's " + ALGORITHM + " to its first use");
            putService(
                    new Service(this, "SecureRandom", ALGORITHM, DeferredRandom.class.getName(), List.of(), Map.of()) {
                        @Override
                        public Object newInstance(Object constructorParameter) {
                            return new DeferredRandom();
                        }
                    });
        }
    }

    /**
     * The JDK's {@link #ALGORITHM} (or its default {@code SecureRandom} where that is missing,
     * as {@code UnixDomainSockets} itself falls back), looked up on first use through the
     * process's provider list.
     */
    static final class DeferredRandom extends SecureRandomSpi {
        private static final long serialVersionUID = 1L;

        private SecureRandom delegate; // guarded by this

        synchronized SecureRandom delegate() {
            if (delegate == null) {
                SecureRandom r;
                try {
                    r = SecureRandom.getInstance(ALGORITHM);
                } catch (NoSuchAlgorithmException e) {
                    r = new SecureRandom();
                }
                delegate = r;
            }
            return delegate;
        }

        @Override
        protected void engineSetSeed(byte[] seed) {
            delegate().setSeed(seed);
        }

        @Override
        protected void engineNextBytes(byte[] bytes) {
            delegate().nextBytes(bytes);
        }

        @Override
        protected byte[] engineGenerateSeed(int numBytes) {
            return delegate().generateSeed(numBytes);
        }
    }
}
