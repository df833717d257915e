package io.sluice.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.sluice.export.JobMdc;
import io.sluice.support.PostgresTestResource;
import jakarta.inject.Inject;
import org.jboss.logmanager.ExtHandler;
import org.jboss.logmanager.ExtLogRecord;
import org.jboss.logmanager.LogContext;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Operations end to end: an NDJSON ingest and a REST export move the Prometheus counters at
 * {@code /q/metrics}; the job gauge reads the database; every log line about the job carries the
 * job id, tenant and worker id in its MDC; /q/openapi lists the API; the admin JSON API is guarded.
 */
@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
@TestProfile(OpsTestProfile.class)
class OpsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TENANT = "ops-metrics";

    @Inject
    JobGauges gauges;

    /** Captures every log record with a copy of its MDC, as a JSON formatter would see it. */
    static final class Capture extends ExtHandler {
        final List<ExtLogRecord> records = new CopyOnWriteArrayList<>();

        @Override
        protected void doPublish(ExtLogRecord record) {
            record.copyMdc();
            record.getMessage();
            records.add(record);
        }
    }

    private static String metrics() {
        Response r = given().get("/q/metrics");
        assertEquals(200, r.statusCode());
        return r.asString();
    }

    /** Sum of the samples of {@code name} whose labels contain every {@code label="value"} given. */
    private static double sample(String text, String name, String... labels) {
        double sum = 0;
        boolean found = false;
        Pattern line = Pattern.compile("^" + Pattern.quote(name) + "(\\{.*})? ([0-9.eE+-]+|NaN)$", Pattern.MULTILINE);
        Matcher m = line.matcher(text);
        while (m.find()) {
            String l = m.group(1) == null ? "" : m.group(1);
            boolean all = true;
            for (String want : labels) {
                all &= l.contains(want);
            }
            if (all) {
                found = true;
                sum += Double.parseDouble(m.group(2));
            }
        }
        return found ? sum : -1;
    }

    private static String ndjson(int patients) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < patients; i++) {
            b.append("{\"resourceType\":\"Patient\",\"id\":\"mp").append(i).append("\",\"gender\":\"female\"}\n");
            b.append("{\"resourceType\":\"Observation\",\"id\":\"mo").append(i)
                    .append("\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/mp")
                    .append(i).append("\"}}\n");
        }
        return b.toString();
    }

    @Test
    void exportMovesCountersGaugesAndLogsCarryTheJobMdc() throws Exception {
        String before = metrics();
        double ingestedBefore = Math.max(0, sample(before, "sluice_ingest_resources_total", "tenant=\"" + TENANT + "\""));
        double patientsBefore = Math.max(0, sample(before, "sluice_export_resources_total", "type=\"Patient\"", "kind=\"output\""));

        Response ingest = given().contentType("application/fhir+ndjson").body(ndjson(20).getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .post("/tenants/" + TENANT + "/fhir/$ingest");
        assertEquals(200, ingest.statusCode(), ingest.asString());

        Capture capture = new Capture();
        org.jboss.logmanager.Logger root = LogContext.getLogContext().getLogger("");
        root.addHandler(capture);
        String jobId;
        try {
            Response kick = given().header("Prefer", "respond-async").header("Accept", "application/fhir+json")
                    .get("/tenants/" + TENANT + "/fhir/$export?_type=Patient,Observation");
            assertEquals(202, kick.statusCode(), kick.asString());
            String status = kick.header("Content-Location");
            jobId = status.substring(status.lastIndexOf('/') + 1);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            Response r;
            do {
                Thread.sleep(100);
                r = given().get(status);
            } while (r.statusCode() == 202 && System.nanoTime() < deadline);
            assertEquals(200, r.statusCode(), r.asString());
            // the completion line is written right after the status commit; give it a moment
            long logDeadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (capture.records.stream().noneMatch(x -> x.getFormattedMessage().contains("complete on worker"))
                    && System.nanoTime() < logDeadline) {
                Thread.sleep(50);
            }
        } finally {
            root.removeHandler(capture);
        }

        // logs: every line naming the job carries jobId, tenant and workerId in its MDC
        String id = jobId;
        List<ExtLogRecord> aboutJob = capture.records.stream()
                .filter(x -> x.getFormattedMessage() != null && x.getFormattedMessage().contains(id)).toList();
        assertTrue(aboutJob.size() >= 2, "claimed and complete lines expected, got " + aboutJob.size());
        assertTrue(aboutJob.stream().anyMatch(x -> x.getFormattedMessage().contains("complete on worker")),
                "no completion line");
        for (ExtLogRecord x : aboutJob) {
            Map<String, String> mdc = x.getMdcCopy();
            assertEquals(id, mdc.get(JobMdc.JOB_ID), "jobId MDC on: " + x.getFormattedMessage());
            assertEquals(TENANT, mdc.get(JobMdc.TENANT), "tenant MDC on: " + x.getFormattedMessage());
            assertEquals("ops-worker-1", mdc.get(JobMdc.WORKER_ID), "workerId MDC on: " + x.getFormattedMessage());
        }
        // and the MDC does not leak onto unrelated lines logged by the test thread afterwards
        assertFalse(id.equals(org.jboss.logging.MDC.get(JobMdc.JOB_ID)));

        // metrics: counters moved by exactly what was ingested and exported
        gauges.refresh().await().atMost(Duration.ofSeconds(10));
        String after = metrics();
        assertEquals(40, sample(after, "sluice_ingest_resources_total", "tenant=\"" + TENANT + "\"") - ingestedBefore, 0.001);
        assertEquals(20, sample(after, "sluice_export_resources_total", "type=\"Patient\"", "kind=\"output\"") - patientsBefore, 0.001);
        assertTrue(sample(after, "sluice_export_bytes_total", "type=\"Observation\"") > 20 * 50, "bytes");
        assertTrue(sample(after, "sluice_claim_latency_seconds_count") >= 1, "claim latency");
        // 20 Patients with 7 per part = 3 parts, same for Observations
        assertTrue(sample(after, "sluice_part_finalize_latency_seconds_count") >= 6, "finalize latency");
        assertTrue(sample(after, "sluice_jobs_ended_total", "outcome=\"complete\"") >= 1, "jobs ended");
        assertEquals(1, sample(after, "sluice_jobs", "tenant=\"" + TENANT + "\"", "status=\"complete\""), 0.001);
        assertEquals(0, sample(after, "sluice_jobs", "tenant=\"" + TENANT + "\"", "status=\"in-progress\""), 0.001);
        assertEquals(0, sample(after, "sluice_jobs_attempts_exhausted", "tenant=\"" + TENANT + "\""), 0.001);
        // registered at zero from the start, so dashboards and alerts see them before the first event
        assertEquals(0, sample(after, "sluice_lease_reclaims_total"), 0.001);
        assertEquals(0, sample(after, "sluice_lease_lost_total", "reason=\"RECLAIMED\""), 0.001);
        assertTrue(sample(after, "http_server_requests_seconds_count", "uri=\"/q/metrics\"") >= 1
                        || sample(after, "http_server_requests_seconds_count") >= 1, "built-in HTTP server metrics");

        // admin API: guarded, lists the job with its files
        given().get("/admin/api/jobs").then().statusCode(401);
        given().header("Authorization", "Bearer wrong").get("/admin/api/jobs").then().statusCode(401);
        Response list = given().header("Authorization", "Bearer " + OpsTestProfile.ADMIN_TOKEN)
                .get("/admin/api/jobs?tenant=" + TENANT);
        assertEquals(200, list.statusCode(), list.asString());
        JsonNode jobs = JSON.readTree(list.asString());
        assertEquals(1, jobs.size(), jobs.toString());
        JsonNode job = jobs.get(0);
        assertEquals(id, job.path("id").asText());
        assertEquals("complete", job.path("status").asText());
        assertEquals(40, job.path("exported").asLong());
        assertEquals(40, job.path("total").asLong());
        assertEquals(6, job.path("fileCount").asLong());
        assertEquals(6, job.path("files").size());
        assertEquals(1, job.path("attempts").asInt());
        assertEquals("ops-worker-1", job.path("workerId").asText());
        Response cancel = given().header("Authorization", "Bearer " + OpsTestProfile.ADMIN_TOKEN)
                .post("/admin/api/jobs/" + id + "/cancel");
        assertEquals(409, cancel.statusCode(), cancel.asString());
        assertEquals("OperationOutcome", JSON.readTree(cancel.asString()).path("resourceType").asText());
        given().header("Authorization", "Bearer " + OpsTestProfile.ADMIN_TOKEN)
                .post("/admin/api/jobs/00000000-0000-0000-0000-000000000000/cancel").then().statusCode(404);
        given().header("Authorization", "Bearer " + OpsTestProfile.ADMIN_TOKEN)
                .get("/admin/api/jobs?status=done").then().statusCode(400);
        given().header("Authorization", "Bearer " + OpsTestProfile.ADMIN_TOKEN)
                .get("/admin/api/jobs?tenant=Bad_Tenant").then().statusCode(400);
    }

    @Test
    void openApiListsFhirExportAuthAndAdminPaths() throws Exception {
        Response r = given().accept("application/json").get("/q/openapi?format=json");
        assertEquals(200, r.statusCode());
        JsonNode paths = JSON.readTree(r.asString()).path("paths");
        assertNotNull(paths);
        List<String> expected = List.of(
                "/fhir/metadata", "/fhir/{type}/{id}", "/fhir/$export", "/fhir/Patient/$export",
                "/fhir/Group/{groupId}/$export", "/fhir/$export-status/{jobId}", "/fhir/$export-file/{jobId}/{file}",
                "/tenants/{tenant}/fhir/$export", "/auth/token", "/auth/jwks", "/admin/clients",
                "/admin/api/jobs", "/admin/api/jobs/{id}/cancel");
        StringBuilder missing = new StringBuilder();
        for (String p : expected) {
            if (!paths.has(p)) {
                missing.append(p).append(' ');
            }
        }
        if (missing.length() > 0) {
            List<String> all = new java.util.ArrayList<>();
            paths.fieldNames().forEachRemaining(all::add);
            fail("missing in /q/openapi: " + missing + "; present: " + all);
        }
        given().get("/q/swagger-ui/").then().statusCode(200);
    }
}
