package dev.taskid.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The taskid release, from the build (Maven resource filtering). */
public final class Version {
    public static final String CURRENT = load();

    private Version() {}

    private static String load() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
