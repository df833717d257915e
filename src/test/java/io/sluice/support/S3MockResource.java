package io.sluice.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.File;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs s3mock ({@code target/s3mock-<version>-exec.jar}, copied there by the maven-dependency-plugin)
 * as a separate process on free loopback ports with the bucket {@value #BUCKET}, and points the S3
 * client at it with static test credentials. Used only through {@link S3Profile}s, so other suites
 * do not start it. {@link #kill()} and {@link #restart()} simulate an outage.
 */
public class S3MockResource implements QuarkusTestResourceLifecycleManager {

    public static final String BUCKET = "sluice-test";
    private static final String JAR = System.getProperty("s3mock.jar", "target/s3mock-5.2.0-exec.jar");

    private static volatile S3MockResource current;
    private Process process;
    private int httpPort;
    private int httpsPort;
    private Path root;
    private Path log;

    /** The running instance (one S3 profile runs at a time). */
    public static S3MockResource current() {
        return current;
    }

    @Override
    public Map<String, String> start() {
        File jar = new File(JAR);
        if (!jar.isFile()) {
            throw new IllegalStateException("s3mock jar missing at " + jar.getAbsolutePath()
                    + " (run the Maven build: process-test-resources copies it)");
        }
        try {
            root = Files.createTempDirectory("sluice-s3mock");
            log = Files.createTempFile("sluice-s3mock", ".log");
            httpPort = freePort();
            httpsPort = freePort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        launch();
        current = this;
        return Map.of(
                "sluice.output.kind", "s3",
                "sluice.output.s3.bucket", BUCKET,
                "quarkus.s3.endpoint-override", endpoint(),
                "quarkus.s3.path-style-access", "true",
                "quarkus.s3.aws.region", "us-east-1",
                "quarkus.s3.aws.credentials.type", "static",
                "quarkus.s3.aws.credentials.static-provider.access-key-id", "test-key",
                "quarkus.s3.aws.credentials.static-provider.secret-access-key", "test-secret");
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String endpoint() {
        return "http://127.0.0.1:" + httpPort;
    }

    private void launch() {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", new File(JAR).getAbsolutePath(),
                "--http.port=" + httpPort, "--server.port=" + httpsPort,
                "--com.adobe.testing.s3mock.store.initial-buckets=" + BUCKET,
                "--com.adobe.testing.s3mock.store.root=" + root,
                "--com.adobe.testing.s3mock.store.retain-files-on-exit=true",
                "--logging.level.root=WARN");
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start s3mock: " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("s3mock exited with " + process.exitValue() + "; log: " + tail());
            }
            if (ready()) {
                return;
            }
            sleep(100);
        }
        process.destroyForcibly();
        throw new IllegalStateException("s3mock did not become ready in 60 s; log: " + tail());
    }

    private boolean ready() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/favicon.ico").toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(1000);
            int code = c.getResponseCode();
            c.disconnect();
            return code == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /** Kills the process at once (an outage); {@link #restart()} brings it back on the same port and data. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts s3mock again on the same ports and store directory. */
    public void restart() {
        if (process.isAlive()) {
            kill();
        }
        launch();
    }

    private String tail() {
        try {
            String s = Files.readString(log);
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public void stop() {
        if (process != null) {
            kill();
        }
        current = null;
        if (root != null) {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // temporary directory
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 0, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
