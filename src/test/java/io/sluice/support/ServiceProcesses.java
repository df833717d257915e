package io.sluice.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Starts the packaged service ({@code quarkus-run.jar}, or the native runner when the native profile
 * built one) as separate processes on the test database, with short leases and tiny parts, and
 * builds jobs the way kick-off does. Shared by the process-level {@code *IT} tests.
 */
public final class ServiceProcesses {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ServiceProcesses() {
    }

    /**
     * Starts one service process with worker id {@code name}, writing its console to {@code log};
     * returns once its worker is up. The caller stops it (the process is also added to {@code started}).
     */
    public static Process start(String name, Path outputDir, Path log, List<Process> started) throws Exception {
        return start(name, outputDir, log, started, List.of());
    }

    /**
     * Like {@link #start(String, Path, Path, List)} with more settings: {@code key=value} for
     * {@code -Dkey=value}, or a JVM option such as {@code -Xmx192m} (default heap: 160 MiB).
     */
    public static Process start(String name, Path outputDir, Path log, List<Process> started, List<String> settings)
            throws Exception {
        List<String> cmd = new ArrayList<>();
        String nativeImage = System.getProperty("native.image.path");
        boolean useNative = nativeImage != null && Files.exists(Path.of(nativeImage));
        if (useNative) {
            cmd.add(nativeImage);
        } else {
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            if (settings.stream().noneMatch(x -> x.startsWith("-Xmx"))) {
                cmd.add("-Xmx160m");
            }
        }
        cmd.addAll(List.of(
                "-Dsluice.db.url=" + PostgresTestResource.databaseUrl(),
                "-Dsluice.db.username=postgres", "-Dsluice.db.password=",
                "-Dsluice.auth.enabled=false", "-Dsluice.sample.load=never",
                "-Dquarkus.http.port=0",
                "-Dsluice.worker.id=" + name,
                "-Dsluice.worker.tick=200ms",
                "-Dsluice.export.output-dir=" + outputDir,
                "-Dsluice.export.batch-size=5",
                "-Dsluice.export.part-max-resources=10",
                "-Dsluice.export.lease=PT3S",
                "-Dsluice.export.heartbeat=PT1S",
                "-Dsluice.db.idle-in-transaction-timeout=2s"));
        for (String setting : settings) {
            if (setting.startsWith("-X")) {
                if (!useNative) {
                    cmd.add(setting); // a JVM option (heap size)
                }
            } else {
                cmd.add("-D" + setting);
            }
        }
        if (!useNative) {
            Path jar = Path.of("target", "quarkus-app", "quarkus-run.jar");
            assertTrue(Files.exists(jar), "package the app first: " + jar.toAbsolutePath());
            cmd.addAll(List.of("-jar", jar.toString()));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < end) {
            if (Files.exists(log) && Files.readString(log).contains("export worker " + name + " started")) {
                return p;
            }
            if (!p.isAlive()) {
                fail(name + " exited: " + Files.readString(log));
            }
            Thread.sleep(100);
        }
        fail(name + " did not start: " + Files.readString(log));
        return p;
    }

    /** The HTTP port a process started here listens on (from its log). */
    public static int port(Path log) throws Exception {
        java.util.regex.Pattern listening = java.util.regex.Pattern.compile("Listening on: http://[^:]+:(\\d+)");
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < end) {
            java.util.regex.Matcher m = listening.matcher(Files.readString(log));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            Thread.sleep(100);
        }
        fail("no port in " + log);
        return -1;
    }

    /**
     * What the recorded parts of a job hold: the sorted {@code type/id/versionId} of every line, and the
     * file names of the parts. Each part's line count must equal its recorded resource count.
     */
    public record RecordedExport(List<String> keys, Set<String> files) {
    }

    /** Reads every recorded part of {@code job} under the output directory {@code out}. */
    public static RecordedExport recorded(UUID job, Path out) throws Exception {
        List<String> keys = new ArrayList<>();
        Set<String> files = new HashSet<>();
        try (Connection c = PostgresTestResource.jdbc(); PreparedStatement ps = c.prepareStatement(
                "SELECT location, resource_count FROM export_part WHERE job_id = ?")) {
            ps.setObject(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Path f = out.resolve(rs.getString(1));
                    files.add(f.getFileName().toString());
                    List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                    assertEquals(rs.getLong(2), lines.size(), "lines of " + f);
                    for (String line : lines) {
                        JsonNode n = JSON.readTree(line);
                        keys.add(n.path("resourceType").asText() + "/" + n.path("id").asText() + "/"
                                + n.path("meta").path("versionId").asText());
                    }
                }
            }
        }
        keys.sort(null);
        return new RecordedExport(keys, files);
    }

    /** The sorted {@code type/id/versionId} of every resource of the tenant visible at the job's transactionTime. */
    public static List<String> snapshotKeys(String tenant, UUID job) throws Exception {
        List<String> expected = new ArrayList<>();
        OffsetDateTime t = OffsetDateTime.parse(one("SELECT to_json(transaction_time)#>>'{}' FROM export_job WHERE id = ?", job));
        try (Connection c = PostgresTestResource.jdbc(); PreparedStatement ps = c.prepareStatement("""
                SELECT resource_type || '/' || id || '/' || version_id FROM resource_version
                WHERE tenant = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?) AND NOT deleted""")) {
            ps.setString(1, tenant);
            ps.setObject(2, t);
            ps.setObject(3, t);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    expected.add(rs.getString(1));
                }
            }
        }
        expected.sort(null);
        return expected;
    }

    /** File names in the job's directory under the output directory {@code out}. */
    public static Set<String> jobFiles(Path out, String tenant, UUID job) throws Exception {
        Set<String> files = new HashSet<>();
        try (var s = Files.list(out.resolve(tenant).resolve(job.toString()))) {
            s.forEach(f -> files.add(f.getFileName().toString()));
        }
        return files;
    }

    /** First column of the first row of a query on the test database, as text (null when no row). */
    public static String one(String sql, Object... args) throws Exception {
        try (Connection c = PostgresTestResource.jdbc(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /**
     * Inserts an accepted system-level job the way kick-off does: under the tenant's exclusive snapshot
     * lock, with transaction_time = clock_timestamp() and the clock past it before commit, then NOTIFY.
     */
    public static UUID insertSystemJob(String tenant, String requestUrl) throws Exception {
        UUID job = UUID.randomUUID();
        try (Connection c = PostgresTestResource.jdbc()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext('sluice-snapshot:' || ?))")) {
                ps.setString(1, tenant);
                ps.execute();
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO export_job (id, tenant, status, level, request, request_url, owner, transaction_time, created_at)
                    VALUES (?, ?, 'accepted', 'system', '{}'::jsonb, ?, '', clock_timestamp(), now())""")) {
                ps.setObject(1, job);
                ps.setString(2, tenant);
                ps.setString(3, requestUrl);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_sleep(0.001), pg_notify('sluice_export_jobs', ?)")) {
                ps.setString(1, job.toString());
                ps.execute();
            }
            c.commit();
        }
        return job;
    }

    /**
     * Writes {@code patients} Patients, each with one Observation in its compartment, in batches of at
     * most 500 patients (ids {@code p0, op0, p1, op1, ...}).
     */
    public static void putPatientsWithObservations(String tenant, int patients) throws Exception {
        try (var fx = new ResourceFixture(tenant)) {
            for (int from = 0; from < patients; from += 500) {
                List<ResourceFixture.Spec> specs = new ArrayList<>();
                for (int i = from; i < Math.min(patients, from + 500); i++) {
                    String p = "p" + i;
                    specs.add(new ResourceFixture.Spec("Patient", p, ResourceFixture.body("gender", "other"), List.of()));
                    specs.add(new ResourceFixture.Spec("Observation", "o" + p,
                            ResourceFixture.subject(p, "status", "final"), List.of(p)));
                }
                fx.putAll(specs);
            }
        }
    }
}
