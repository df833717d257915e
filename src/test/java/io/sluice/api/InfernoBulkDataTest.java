package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static io.restassured.RestAssured.given;
import static io.sluice.api.BulkClient.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Replays the checks of the Inferno Bulk Data test kit (STU2 suite, auth off) at system, Patient and
 * Group level against a tenant base: discovery, kick-off, polling, manifest shape,
 * downloads, R4 validity, two patients, cancel, the three {@code _outputFormat} spellings, {@code _since},
 * and an empty {@code Authorization: Bearer } header on polls being ignored.
 */
@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
class InfernoBulkDataTest {

    /** Its own tenant: other suites write arbitrary (sometimes deliberately invalid) data to the default one. */
    static final String BASE = "/tenants/inferno/fhir";
    static final String GROUP = "inferno-group";
    static boolean seeded;

    @BeforeEach
    void seed() {
        if (seeded) {
            return;
        }
        BulkClient c = new BulkClient(BASE);
        for (String id : List.of("inf-p1", "inf-p2")) {
            c.put("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"female\"}");
            c.put("{\"resourceType\":\"Observation\",\"id\":\"" + id + "-obs\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                    + "\"subject\":{\"reference\":\"Patient/" + id + "\"}}");
        }
        c.put("{\"resourceType\":\"Group\",\"id\":\"" + GROUP + "\",\"type\":\"person\",\"actual\":true,\"member\":["
                + "{\"entity\":{\"reference\":\"Patient/inf-p1\"}},{\"entity\":{\"reference\":\"Patient/inf-p2\"}}]}");
        seeded = true;
    }

    static final Map<String, String> LEVELS = Map.of(
            "system", "/$export",
            "patient", "/Patient/$export",
            "group", "/Group/" + GROUP + "/$export");

    @Test
    void capabilityStatementDeclaresExportOperations() {
        Response r = given().header("Accept", "application/fhir+json").get(BASE + "/metadata");
        assertEquals(200, r.statusCode());
        JsonNode cs = json(r.asString());
        assertEquals("CapabilityStatement", cs.path("resourceType").asText());
        assertTrue(cs.path("instantiates").toString().contains("http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"));
        JsonNode rest = cs.path("rest").get(0);
        assertTrue(rest.path("operation").findValuesAsText("definition")
                .contains("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"));
        boolean patient = false;
        boolean group = false;
        for (JsonNode res : rest.path("resource")) {
            List<String> defs = res.path("operation").findValuesAsText("definition");
            if (res.path("type").asText().equals("Patient")) {
                patient = defs.contains("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export");
            }
            if (res.path("type").asText().equals("Group")) {
                group = defs.contains("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export");
            }
        }
        assertTrue(patient && group, "Patient and Group export operations");
    }

    /** Inferno polls with an exponential backoff honouring Retry-After and a token header it may leave empty. */
    static Response pollLikeInferno(String statusUrl) {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        long wait = 100;
        while (System.nanoTime() < deadline) {
            Response r = given().header("Accept", "application/json").header("Authorization", "Bearer ").get(statusUrl);
            if (r.statusCode() != 202) {
                return r;
            }
            String retry = r.header("Retry-After");
            wait = retry != null ? Math.min(Long.parseLong(retry) * 1000, 500) : Math.min(wait * 2, 500);
            BulkClient.sleep(wait);
        }
        fail("no completion");
        return null;
    }

    @Test
    void everyLevelKickoffPollDownloadValidate() {
        for (var level : LEVELS.entrySet()) {
            Response k = given().header("Accept", "application/fhir+json").header("Prefer", "respond-async")
                    .get(BASE + level.getValue());
            assertEquals(202, k.statusCode(), level.getKey() + ": " + k.asString());
            String status = k.header("Content-Location");
            assertTrue(status.startsWith("http"), status);
            Response done = pollLikeInferno(status);
            assertEquals(200, done.statusCode(), done.asString());
            assertTrue(done.contentType().startsWith("application/json"));
            JsonNode m = json(done.asString());
            for (String key : List.of("transactionTime", "request", "requiresAccessToken", "output", "error")) {
                assertTrue(m.has(key), level.getKey() + " manifest lacks " + key);
            }
            assertFalse(m.path("requiresAccessToken").asBoolean());
            int patients = 0;
            for (JsonNode o : m.path("output")) {
                assertTrue(o.has("type") && o.path("url").asText().matches("https?://.+"), o.toString());
                // requiresAccessToken is false: downloads work without a token
                List<String> lines = BulkClient.lines(o.path("url").asText());
                assertEquals(o.path("count").asLong(), lines.size());
                for (String line : lines) {
                    assertEquals(o.path("type").asText(), json(line).path("resourceType").asText());
                    List<String> errors = R4Validation.errors(line);
                    assertTrue(errors.isEmpty(), errors.toString());
                }
                if (o.path("type").asText().equals("Patient")) {
                    patients += lines.size();
                }
            }
            assertTrue(patients >= 2, level.getKey() + " has at least two patients");
        }
    }

    @Test
    void cancelAnswers202ThenStatusIs404WithOperationOutcome() {
        for (String path : LEVELS.values()) {
            String status = given().header("Accept", "application/fhir+json").header("Prefer", "respond-async")
                    .get(BASE + path).header("Content-Location");
            assertEquals(202, given().delete(status).statusCode());
            Response after = given().header("Authorization", "Bearer ").get(status);
            assertEquals(404, after.statusCode());
            assertEquals("OperationOutcome", json(after.asString()).path("resourceType").asText());
        }
    }

    @Test
    void threeOutputFormatSpellingsAndSince() {
        for (String format : List.of("application/fhir+ndjson", "application/ndjson", "ndjson")) {
            for (String path : LEVELS.values()) {
                Response k = given().header("Accept", "application/fhir+json").header("Prefer", "respond-async")
                        .queryParam("_outputFormat", format).get(BASE + path);
                assertEquals(202, k.statusCode(), format + " " + path + ": " + k.asString());
                JsonNode m = json(pollLikeInferno(k.header("Content-Location")).asString());
                for (JsonNode o : m.path("output")) {
                    Response f = given().get(o.path("url").asText());
                    assertTrue(f.contentType().startsWith("application/fhir+ndjson"), "file content type with " + format);
                }
            }
        }
        for (String path : LEVELS.values()) {
            Response k = given().header("Accept", "application/fhir+json").header("Prefer", "respond-async")
                    .queryParam("_since", "2020-01-01T00:00:00Z").get(BASE + path);
            assertEquals(202, k.statusCode(), k.asString());
            JsonNode m = json(pollLikeInferno(k.header("Content-Location")).asString());
            Set<String> types = new TreeSet<>(m.path("output").findValuesAsText("type"));
            assertTrue(types.contains("Patient"), types.toString());
            assertNotNull(m.get("deleted"), "a _since manifest lists deleted files (possibly none)");
        }
    }
}
