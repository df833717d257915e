package io.sluice.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Smoke test of what an operator relies on: probes, a real export through the REST API (store,
 * queue, worker, output files), Prometheus metrics, OpenAPI, the dashboard page and its guarded API,
 * and the OperationDefinition JSON resources. {@link PackagedAppIT} runs the same against the
 * packaged application (the jar here; the native binary where GraalVM/Mandrel exists).
 */
@QuarkusTest
@QuarkusTestResource(value = SmokeResource.class, restrictToAnnotatedClass = true)
public class PackagedAppSmokeTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void probesExportMetricsOpenApiAndDashboard() throws Exception {
        given().get("/q/health/ready").then().statusCode(200);
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/started").then().statusCode(200);

        String tenant = "smoke";
        String base = "/tenants/" + tenant + "/fhir";
        String ndjson = "{\"resourceType\":\"Patient\",\"id\":\"s1\",\"gender\":\"male\"}\n"
                + "{\"resourceType\":\"Observation\",\"id\":\"so1\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/s1\"}}\n";
        given().contentType("application/fhir+ndjson").body(ndjson.getBytes(StandardCharsets.UTF_8))
                .post(base + "/$ingest").then().statusCode(200);
        Response kick = given().header("Prefer", "respond-async").header("Accept", "application/fhir+json")
                .get(base + "/Patient/$export");
        assertEquals(202, kick.statusCode(), kick.asString());
        String status = kick.header("Content-Location");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Response r;
        do {
            Thread.sleep(100);
            r = given().get(status);
        } while (r.statusCode() == 202 && System.nanoTime() < deadline);
        assertEquals(200, r.statusCode(), r.asString());
        JsonNode manifest = JSON.readTree(r.asString());
        assertEquals(2, manifest.path("output").size(), manifest.toString());
        for (JsonNode o : manifest.path("output")) {
            String body = given().get(o.path("url").asText()).then().statusCode(200).extract().asString();
            assertEquals(o.path("type").asText(), JSON.readTree(body.split("\n")[0]).path("resourceType").asText());
        }

        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("sluice_export_resources_total{kind=\"output\",type=\"Patient\"}"), "export counter");
        assertTrue(metrics.contains("sluice_ingest_resources_total{tenant=\"smoke\"} 2.0"), "ingest counter");
        assertTrue(metrics.contains("http_server_requests_seconds_count"), "HTTP server metrics");

        JsonNode openapi = JSON.readTree(given().accept("application/json").get("/q/openapi?format=json").asString());
        assertTrue(openapi.path("paths").has("/fhir/$export"), "openapi");

        given().get("/fhir/OperationDefinition/export").then().statusCode(200);
        assertTrue(given().get("/admin/").then().statusCode(200).extract().asString().contains("admin.js"));
        given().get("/admin/api/jobs").then().statusCode(401);
        JsonNode jobs = JSON.readTree(given().header("Authorization", "Bearer " + SmokeResource.ADMIN_TOKEN)
                .get("/admin/api/jobs?tenant=" + tenant).then().statusCode(200).extract().asString());
        assertEquals("complete", jobs.path(0).path("status").asText(), jobs.toString());
    }
}
