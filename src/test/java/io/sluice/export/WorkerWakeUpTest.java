package io.sluice.export;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.sluice.job.ExportJobView;
import io.sluice.job.ExportLevel;
import io.sluice.job.ExportRequest;
import io.sluice.job.ExportService;
import io.sluice.support.PostgresTestResource;
import io.sluice.support.ResourceFixture;
import io.sluice.support.WorkerOnProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static io.sluice.export.EngineHarness.*;
import static org.junit.jupiter.api.Assertions.*;

/** With the scheduled tick at 1h, jobs still start at once: local create wakes the worker, other replicas NOTIFY. */
@QuarkusTest
@TestProfile(WorkerOnProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class WorkerWakeUpTest {

    @Inject
    ExportService service;
    @Inject
    WorkerRuntime runtime;

    private static void awaitComplete(UUID id) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!"complete".equals(status(id))) {
            assertTrue(System.nanoTime() < end, "job " + id + " not complete in 5 s: " + status(id));
            Thread.sleep(10);
        }
    }

    @Test
    void localCreateAndRemoteNotifyStartJobsImmediately() throws Exception {
        assertTrue(runtime.worker().isPresent());
        String tenant = tenant();
        try (var fx = new ResourceFixture(tenant)) {
            fx.put("Patient", "w1", ResourceFixture.body(), List.of());
        }
        ExportJobView local = service.create(new io.sluice.job.NewExportJob(tenant, ExportLevel.SYSTEM, null,
                ExportRequest.all(), "u", "")).await().atMost(Duration.ofSeconds(5));
        awaitComplete(local.id());

        // a job inserted by "another replica": only the NOTIFY tells this instance
        UUID remote = UUID.randomUUID();
        try (Connection c = PostgresTestResource.jdbc()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO export_job (id, tenant, status, level, request, request_url, owner, transaction_time, created_at)
                    VALUES (?, ?, 'accepted', 'system', '{}'::jsonb, 'u', '', clock_timestamp(), now())""")) {
                ps.setObject(1, remote);
                ps.setString(2, tenant);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify('sluice_export_jobs', ?)")) {
                ps.setString(1, remote.toString());
                ps.execute();
            }
            c.commit();
        }
        awaitComplete(remote);
    }
}
