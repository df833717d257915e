package io.sluice.config;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Owns the process-wide embedded PostgreSQL (zonky) used when no external database is configured.
 *
 * <p>Its data directory survives restarts. A postmaster left running by a killed JVM is stopped
 * first, since zonky cannot start over a live {@code postmaster.pid}.
 */
public final class EmbeddedPostgres {

    /** A running embedded server. */
    public record Started(io.zonky.test.db.postgres.embedded.EmbeddedPostgres server, int port) {
        /** Database URL in the form both the reactive client and JDBC (with a jdbc: prefix) accept. */
        public String url() {
            return "postgresql://127.0.0.1:" + port + "/postgres";
        }
    }

    private static Started started;

    private EmbeddedPostgres() {
    }

    /** Starts the server once per JVM; later calls return the running one. */
    public static synchronized Started start(String dataDir, int port) {
        if (started != null) {
            return started;
        }
        try {
            Path dir = Path.of(dataDir).toAbsolutePath();
            Files.createDirectories(dir);
            stopStalePostmaster(dir);
            int chosen = port > 0 ? port : freePort();
            var server = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                    .setDataDirectory(dir)
                    .setCleanDataDirectory(false)
                    .setPort(chosen)
                    .setServerConfig("timezone", "UTC")
                    .start();
            started = new Started(server, chosen);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    server.close();
                } catch (IOException ignored) {
                    // the JVM is going away; the next start cleans a stale postmaster
                }
            }, "embedded-postgres-stop"));
            return started;
        } catch (IOException e) {
            throw new IllegalStateException("Could not start embedded PostgreSQL in " + dataDir + ": " + e.getMessage(), e);
        }
    }

    private static void stopStalePostmaster(Path dir) throws IOException {
        Path pidFile = dir.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
        if (lines.isEmpty()) {
            Files.deleteIfExists(pidFile);
            return;
        }
        long pid = Long.parseLong(lines.get(0).trim());
        ProcessHandle.of(pid).filter(p -> p.info().command().map(c -> c.contains("postgres")).orElse(false)).ifPresent(p -> {
            p.destroy();
            try {
                p.onExit().get(java.util.concurrent.TimeUnit.SECONDS.toMillis(20), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
        });
        Files.deleteIfExists(pidFile);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
