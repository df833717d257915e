package io.sluice.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.sluice.job.ExportJobView;
import io.sluice.job.ExportLevel;
import io.sluice.job.ExportRequest;
import io.sluice.support.EngineProfile;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.zip.GZIPInputStream;

import static io.sluice.export.EngineHarness.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The shared Synthea set (38,473 resources) loaded as single versions, exported at system level:
 * every resource once, and a throughput figure printed. Skips when the data set is missing.
 */
@QuarkusTest
@TestProfile(EngineProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class SyntheaSystemExportTest extends WorkerTestBase {

    @Test
    void exportsTheWholeSyntheaSetOnce() throws Exception {
        Path dir = Path.of(System.getProperty("sluice.synthea.dir", "../shared/data/synthea-r4-100")).resolve("ndjson");
        Assumptions.assumeTrue(Files.isDirectory(dir), "Synthea data set not found at " + dir.toAbsolutePath());
        String tenant = tenant();
        Instant at = Instant.now().minusSeconds(60).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
        int loaded = 0;
        try (Connection c = PostgresTestResource.jdbc(); var files = Files.list(dir)) {
            c.setAutoCommit(false);
            for (Path f : files.filter(p -> p.toString().endsWith(".ndjson.gz")).sorted().toList()) {
                try (var in = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(f)),
                        StandardCharsets.UTF_8));
                     PreparedStatement ps = c.prepareStatement("""
                             INSERT INTO resource_version (tenant, resource_type, id, version_id, valid_from, content)
                             VALUES (?, ?, ?, 1, ?, ?)""")) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        ObjectNode r = (ObjectNode) JSON.readTree(line);
                        r.putObject("meta").put("versionId", "1").put("lastUpdated", DateTimeFormatter.ISO_INSTANT.format(at));
                        ps.setString(1, tenant);
                        ps.setString(2, r.path("resourceType").asText());
                        ps.setString(3, r.path("id").asText());
                        ps.setObject(4, java.time.OffsetDateTime.ofInstant(at, java.time.ZoneOffset.UTC));
                        ps.setString(5, r.toString());
                        ps.addBatch();
                        loaded++;
                    }
                    ps.executeBatch();
                }
            }
            c.commit();
        }
        ExportWorker w = worker("synthea", engine.settings().withParts(Integer.getInteger("bench.batch", 2000), 50000, 268435456L));
        long t0 = System.nanoTime();
        ExportJobView job = create(service, tenant, ExportLevel.SYSTEM, null, ExportRequest.all());
        assertEquals("complete", awaitFinal(job.id(), Duration.ofSeconds(120), w));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        ExportJobView v = view(service, tenant, job.id());
        var lines = lines(output, v, "output");
        assertEquals(loaded, lines.size());
        assertEquals(snapshot(tenant, v.transactionTime()), keys(lines));
        long bytes = v.parts().stream().mapToLong(ExportJobView.Part::byteCount).sum();
        System.out.printf("Synthea system export: %d resources, %d bytes, %d parts in %d ms (%.0f resources/s)%n",
                loaded, bytes, v.parts().size(), ms, loaded * 1000.0 / Math.max(1, ms));
        for (JsonNode n : lines.subList(0, 3)) {
            assertTrue(n.has("resourceType"));
        }
    }
}
