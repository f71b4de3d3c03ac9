package dev.taskid.backend.postgres;

import dev.taskid.backend.BackendConfig;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A libpq-style URL ({@code postgresql://user@host:5432/db?sslmode=require}) as the JDBC
 * driver's URL and properties. The driver reads ~/.pgpass (PGPASSFILE) and service files
 * (PGSERVICEFILE, {@code ?service=name}) itself; PGPASSWORD, PGUSER and PGSSLMODE it does not,
 * so they are passed here when the URL does not set them.
 */
record PgUrl(String jdbcUrl, Properties properties) {
    private static final Pattern LIBPQ =
            Pattern.compile("^(?:postgresql|postgres)://(?:([^@/]*)@)?(.*)$", Pattern.CASE_INSENSITIVE);

    static boolean accepts(String url) {
        String u = url.toLowerCase(Locale.ROOT);
        return u.startsWith("postgresql:") || u.startsWith("postgres:") || u.startsWith("jdbc:postgresql:");
    }

    static PgUrl parse(BackendConfig backend, Map<String, String> env, String role) {
        Properties p = new Properties();
        String url = backend.url();
        String jdbc;
        Matcher m = LIBPQ.matcher(url);
        if (m.matches()) {
            if (m.group(1) != null && !m.group(1).isEmpty()) {
                String[] userInfo = m.group(1).split(":", 2);
                p.setProperty("user", decode(userInfo[0]));
                if (userInfo.length == 2) {
                    p.setProperty("password", decode(userInfo[1]));
                }
            }
            jdbc = "jdbc:postgresql://" + m.group(2);
        } else {
            jdbc = url;
        }
        String lower = jdbc.toLowerCase(Locale.ROOT);
        if (!p.containsKey("user") && !lower.contains("user=") && env.get("PGUSER") != null) {
            p.setProperty("user", env.get("PGUSER"));
        }
        if (!p.containsKey("password") && !lower.contains("password=") && env.get("PGPASSWORD") != null) {
            p.setProperty("password", env.get("PGPASSWORD"));
        }
        if (!lower.contains("sslmode=") && env.get("PGSSLMODE") != null) {
            p.setProperty("sslmode", env.get("PGSSLMODE"));
        }
        long ms = backend.timeout().toMillis();
        int seconds = (int) Math.max(1, (ms + 999) / 1000);
        p.setProperty("connectTimeout", String.valueOf(seconds));
        p.setProperty("loginTimeout", String.valueOf(seconds));
        // A statement that gets no answer (a partition) fails after this instead of hanging the batch.
        p.setProperty("socketTimeout", String.valueOf(seconds));
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("ApplicationName", role + " " + ProcessHandle.current().pid());
        // A host cut off mid-transaction must not keep its row locks: the server ends the session.
        // Half the timeout, so that a waiting host gets the locks before its own statement times out.
        p.setProperty(
                "options",
                "-c idle_in_transaction_session_timeout=" + Math.max(500, ms / 2) + " -c statement_timeout=" + ms);
        return new PgUrl(jdbc, p);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
