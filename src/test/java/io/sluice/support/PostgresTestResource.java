package io.sluice.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.sluice.config.EmbeddedPostgres;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;

/**
 * Gives every test run a fresh database: on the PostgreSQL at 127.0.0.1:5432 when one answers,
 * otherwise on an embedded server in a temporary directory. The database's session time zone is
 * set to a non-UTC zone with an odd offset, so time zone bugs show.
 */
public class PostgresTestResource implements QuarkusTestResourceLifecycleManager {

    /** Time zone every test connection runs in. */
    public static final String SESSION_TIME_ZONE = "Asia/Kathmandu";

    private static String url;

    @Override
    public Map<String, String> start() {
        return Map.of("sluice.db.url", databaseUrl(), "sluice.db.username", "postgres", "sluice.db.password", "");
    }

    /** Creates (once per JVM) and returns the URL of this run's database, without the jdbc: prefix. */
    public static synchronized String databaseUrl() {
        if (url == null) {
            url = newDatabase();
        }
        return url;
    }

    /**
     * Creates one more fresh database on the same server and returns its URL. For a separate service
     * process whose workers must not pick up the jobs other tests put into the shared database.
     */
    public static synchronized String newDatabase() {
        String server = server();
        String db = "sluice_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = DriverManager.getConnection("jdbc:" + server + "/postgres", "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
            s.execute("ALTER DATABASE " + db + " SET timezone TO '" + SESSION_TIME_ZONE + "'");
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot create test database: " + e.getMessage(), e);
        }
        return server + "/" + db;
    }

    private static String serverUrl;

    /** The server: 127.0.0.1:5432 when it answers, else an embedded one started once per JVM. */
    private static String server() {
        if (serverUrl == null) {
            if (reachable("127.0.0.1", 5432)) {
                serverUrl = "postgresql://127.0.0.1:5432";
            } else {
                try {
                    var dir = Files.createTempDirectory("sluice-test-pg");
                    serverUrl = "postgresql://127.0.0.1:" + EmbeddedPostgres.start(dir.toString(), 0).port();
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return serverUrl;
    }

    /** A JDBC connection to this run's database, for tests that set up rows directly. */
    public static Connection jdbc() throws java.sql.SQLException {
        return DriverManager.getConnection("jdbc:" + databaseUrl(), "postgres", "");
    }

    private static boolean reachable(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Override
    public void stop() {
        // the database is left for inspection; each run uses a new name
    }
}
