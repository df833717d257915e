package io.sluice.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.support.PostgresTestResource;
import io.sluice.support.ServiceProcesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

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

import static org.junit.jupiter.api.Assertions.*;

/**
 * Process-level crash test on the packaged service: one JVM ({@code quarkus-run.jar}, or the native
 * runner under -Pnative) is killed with SIGKILL mid-export, a second one finishes the job; every
 * snapshot resource appears exactly once across the recorded parts and only recorded files remain.
 */
class KillNineIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
    }

    private Process start(String name, Path outputDir, Path log) throws Exception {
        return ServiceProcesses.start(name, outputDir, log, processes);
    }

    private static Connection db() throws Exception {
        return PostgresTestResource.jdbc();
    }

    private static String one(String sql, Object... args) throws Exception {
        return ServiceProcesses.one(sql, args);
    }

    @Test
    void killNineMidExportThenAnotherProcessFinishesExactlyOnce() throws Exception {
        Path work = Files.createDirectories(Path.of("target", "kill9-" + UUID.randomUUID().toString().substring(0, 8)))
                .toAbsolutePath();
        Path out = work.resolve("exports");
        Process a = start("victim", out, work.resolve("victim.log"));
        String tenant = "k9";
        ServiceProcesses.putPatientsWithObservations(tenant, 2000);
        UUID job = ServiceProcesses.insertSystemJob(tenant, "http://k9/$export");
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (Long.parseLong(one("SELECT count(*) FROM export_part WHERE job_id = ?", job)) < 5) {
            assertTrue(System.nanoTime() < end, "victim never recorded a part");
            Thread.sleep(2);
        }
        a.toHandle().destroyForcibly(); // SIGKILL
        a.waitFor();
        assertEquals("in-progress", one("SELECT status FROM export_job WHERE id = ?", job), "killed mid-export");
        long before = Long.parseLong(one("SELECT count(*) FROM export_part WHERE job_id = ?", job));

        start("rescuer", out, work.resolve("rescuer.log"));
        end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!"complete".equals(one("SELECT status FROM export_job WHERE id = ?", job))) {
            assertTrue(System.nanoTime() < end, "rescuer did not finish; status "
                    + one("SELECT status || ' ' || coalesce(error_message, '') FROM export_job WHERE id = ?", job));
            Thread.sleep(20);
        }
        assertEquals("rescuer", one("SELECT worker_id FROM export_job WHERE id = ?", job));
        assertEquals("2", one("SELECT max(fencing_token)::text FROM export_part WHERE job_id = ?", job));
        assertTrue(before < Long.parseLong(one("SELECT count(*) FROM export_part WHERE job_id = ?", job)));

        List<String> exported = new ArrayList<>();
        Set<String> recorded = new HashSet<>();
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement(
                "SELECT location, resource_count FROM export_part WHERE job_id = ? AND kind = 'output'")) {
            ps.setObject(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Path f = out.resolve(rs.getString(1));
                    recorded.add(f.getFileName().toString());
                    List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                    assertEquals(rs.getLong(2), lines.size());
                    for (String line : lines) {
                        JsonNode n = JSON.readTree(line);
                        exported.add(n.path("resourceType").asText() + "/" + n.path("id").asText() + "/"
                                + n.path("meta").path("versionId").asText());
                    }
                }
            }
        }
        exported.sort(null);
        List<String> expected = new ArrayList<>();
        OffsetDateTime t = OffsetDateTime.parse(one("SELECT to_json(transaction_time)#>>'{}' FROM export_job WHERE id = ?", job));
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement("""
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
        assertEquals(4000, expected.size());
        assertEquals(expected, exported);
        Set<String> files = new HashSet<>();
        try (var s = Files.list(out.resolve(tenant).resolve(job.toString()))) {
            s.forEach(f -> files.add(f.getFileName().toString()));
        }
        assertEquals(recorded, files, "unrecorded parts of the killed process were removed");
    }
}
