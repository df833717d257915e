package io.sluice.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.job.ExportJobView;
import io.sluice.job.ExportLevel;
import io.sluice.job.ExportRequest;
import io.sluice.job.ExportService;
import io.sluice.job.JobStatus;
import io.sluice.job.NewExportJob;
import io.sluice.output.OutputStore;
import io.sluice.support.PostgresTestResource;
import io.vertx.mutiny.core.buffer.Buffer;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared steps of the engine tests: create jobs, wait for them, read their parts, compute snapshots. */
final class EngineHarness {

    static final ObjectMapper JSON = new ObjectMapper();

    private EngineHarness() {
    }

    static ExportJobView create(ExportService service, String tenant, ExportLevel level, String groupId, ExportRequest r) {
        return service.create(new NewExportJob(tenant, level, groupId, r, "http://test/$export", "")).await()
                .atMost(Duration.ofSeconds(10));
    }

    static String status(UUID jobId) throws Exception {
        try (Connection c = PostgresTestResource.jdbc();
             PreparedStatement ps = c.prepareStatement("SELECT status FROM export_job WHERE id = ?")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Polls until the job is final (complete, error, cancelled), waking the workers in between. */
    static String awaitFinal(UUID jobId, Duration timeout, ExportWorker... workers) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        var jobs = workers.length > 0 ? workers[0].engine.jobs : null;
        while (System.nanoTime() < end) {
            String s;
            try {
                s = jobs != null
                        ? jobs.status(jobId).await().atMost(Duration.ofSeconds(10)).map(JobStatus::wire).orElse(null)
                        : status(jobId);
            } catch (io.sluice.job.JobStoreException e) {
                continue; // the test's own poll may hit a killed connection
            }
            if (s != null && JobStatus.fromWire(s).isFinal()) {
                return s;
            }
            for (ExportWorker w : workers) {
                try {
                    w.runOnce().await().atMost(Duration.ofSeconds(10));
                } catch (io.sluice.job.JobStoreException e) {
                    // a claim on a killed connection: the runtime's tick would simply claim again
                }
            }
            Thread.sleep(2);
        }
        fail("job " + jobId + " not finished after " + timeout + ", status " + status(jobId));
        return null;
    }

    static ExportJobView view(ExportService service, String tenant, UUID id) {
        return service.find(tenant, id, "").await().atMost(Duration.ofSeconds(10)).orElseThrow();
    }

    /** All lines of all recorded parts of a kind. */
    static List<JsonNode> lines(OutputStore out, ExportJobView view, String kind) throws Exception {
        List<JsonNode> all = new ArrayList<>();
        for (ExportJobView.Part p : view.parts()) {
            if (!p.kind().equals(kind)) {
                continue;
            }
            Buffer b = out.read(p.location(), 0, -1).collect().in(Buffer::buffer, Buffer::appendBuffer).await()
                    .atMost(Duration.ofSeconds(10));
            assertEquals(p.byteCount(), b.length(), "byte count of " + p.location());
            byte[] bytes = b.getBytes();
            String hex = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
            assertEquals(p.sha256(), hex, "sha256 of " + p.location());
            String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
            int n = 0;
            for (String line : text.split("\n")) {
                if (!line.isEmpty()) {
                    all.add(JSON.readTree(line));
                    n++;
                }
            }
            assertEquals(p.resourceCount(), n, "line count of " + p.location());
        }
        return all;
    }

    /** Sorted "Type/id/versionId" keys of output lines. */
    static List<String> keys(List<JsonNode> lines) {
        return lines.stream().map(n -> n.path("resourceType").asText() + "/" + n.path("id").asText() + "/"
                + n.path("meta").path("versionId").asText()).sorted().toList();
    }

    /** Sorted "Type/id/versionId" of every resource visible at {@code at} in a tenant (system level). */
    static List<String> snapshot(String tenant, Instant at) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = PostgresTestResource.jdbc(); PreparedStatement ps = c.prepareStatement("""
                SELECT resource_type, id, version_id FROM resource_version
                WHERE tenant = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?) AND NOT deleted""")) {
            ps.setString(1, tenant);
            ps.setObject(2, OffsetDateTime.ofInstant(at, java.time.ZoneOffset.UTC));
            ps.setObject(3, OffsetDateTime.ofInstant(at, java.time.ZoneOffset.UTC));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1) + "/" + rs.getString(2) + "/" + rs.getLong(3));
                }
            }
        }
        out.sort(null);
        return out;
    }

    static void sql(String sql, Object... args) throws Exception {
        try (Connection c = PostgresTestResource.jdbc(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.execute();
        }
    }

    static long count(String sql, Object... args) throws Exception {
        try (Connection c = PostgresTestResource.jdbc(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static String tenant() {
        return "t" + UUID.randomUUID().toString().substring(0, 8);
    }
}
