package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A Bulk Data client for tests, speaking plain HTTP through rest-assured. */
final class BulkClient {

    static final ObjectMapper JSON = new ObjectMapper();

    /** The FHIR base path of the tenant, e.g. {@code /tenants/t1/fhir}. */
    final String base;

    BulkClient(String base) {
        this.base = base;
    }

    static BulkClient tenant(String tenant) {
        return new BulkClient("/tenants/" + tenant + "/fhir");
    }

    static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (Exception e) {
            throw new IllegalStateException("not JSON: " + s, e);
        }
    }

    /** Stores a resource through the FHIR REST API (update-as-create). */
    String put(String resourceJson) {
        JsonNode r = json(resourceJson);
        String path = base + "/" + r.path("resourceType").asText() + "/" + r.path("id").asText();
        Response res = given().contentType("application/fhir+json").body(resourceJson).put(path);
        assertTrue(res.statusCode() == 200 || res.statusCode() == 201, "PUT " + path + " -> " + res.statusCode() + " " + res.asString());
        return res.asString();
    }

    void delete(String type, String id) {
        int s = given().delete(base + "/" + type + "/" + id).statusCode();
        assertTrue(s == 200 || s == 204, "DELETE " + type + "/" + id + " -> " + s);
    }

    static RequestSpecification async() {
        return given().header("Prefer", "respond-async").header("Accept", "application/fhir+json");
    }

    /** GET kick-off; returns the status URL. */
    String kickoff(String path, Object... queryNameValues) {
        RequestSpecification r = async();
        for (int i = 0; i < queryNameValues.length; i += 2) {
            r = r.queryParam((String) queryNameValues[i], queryNameValues[i + 1]);
        }
        Response res = r.get(base + path);
        assertEquals(202, res.statusCode(), "kick-off " + path + ": " + res.asString());
        String location = res.header("Content-Location");
        assertNotNull(location, "Content-Location");
        assertTrue(location.startsWith("http://") || location.startsWith("https://"), location);
        return location;
    }

    /** POST kick-off with a Parameters body; returns the status URL. */
    String kickoffPost(String path, String parametersJson) {
        Response res = async().contentType("application/fhir+json").body(parametersJson).post(base + path);
        assertEquals(202, res.statusCode(), "POST kick-off " + path + ": " + res.asString());
        return res.header("Content-Location");
    }

    /** Polls the status URL, honouring Retry-After (capped), until it is not 202. */
    static Response poll(String statusUrl) {
        // generous: on a shared 2-core machine a full verify runs many suites' jobs through 2 worker slots
        long deadline = System.nanoTime() + Duration.ofSeconds(600).toNanos();
        while (System.nanoTime() < deadline) {
            Response res = given().get(statusUrl);
            if (res.statusCode() != 202) {
                return res;
            }
            assertNotNull(res.header("X-Progress"), "X-Progress on 202");
            String retry = res.header("Retry-After");
            assertNotNull(retry, "Retry-After on 202");
            sleep(Math.min(Long.parseLong(retry) * 1000, 300));
        }
        fail("export did not finish in time: " + statusUrl);
        return null;
    }

    /** Polls to completion and returns the manifest. */
    static JsonNode complete(String statusUrl) {
        Response res = poll(statusUrl);
        assertEquals(200, res.statusCode(), "status: " + res.asString());
        assertTrue(res.contentType().startsWith("application/json"), res.contentType());
        assertNotNull(res.header("Expires"), "Expires");
        JsonNode m = json(res.asString());
        for (String key : List.of("transactionTime", "request", "requiresAccessToken", "output", "error")) {
            assertTrue(m.has(key), "manifest lacks " + key + ": " + m);
        }
        return m;
    }

    /** Downloads one file and returns its lines. */
    static List<String> lines(String url) {
        Response res = given().get(url);
        assertEquals(200, res.statusCode(), "GET " + url + ": " + res.asString());
        assertTrue(res.contentType().startsWith("application/fhir+ndjson"), res.contentType());
        String body = new String(res.asByteArray(), StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        for (String l : body.split("\n")) {
            if (!l.isEmpty()) {
                out.add(l);
            }
        }
        return out;
    }

    /** Every output line of a manifest per type, checking counts and resourceType on the way. */
    static Map<String, List<JsonNode>> outputs(JsonNode manifest) {
        Map<String, List<JsonNode>> byType = new LinkedHashMap<>();
        for (JsonNode o : manifest.path("output")) {
            String type = o.path("type").asText();
            String url = o.path("url").asText();
            assertTrue(url.startsWith("http"), "absolute url: " + url);
            List<String> lines = lines(url);
            assertEquals(o.path("count").asLong(), lines.size(), "count of " + url);
            for (String l : lines) {
                JsonNode r = json(l);
                assertEquals(type, r.path("resourceType").asText(), "resourceType in " + url);
                byType.computeIfAbsent(type, k -> new ArrayList<>()).add(r);
            }
        }
        return byType;
    }

    /** Ids per type of an export's output. */
    static Map<String, java.util.Set<String>> ids(Map<String, List<JsonNode>> outputs) {
        Map<String, java.util.Set<String>> ids = new java.util.TreeMap<>();
        outputs.forEach((t, rs) -> ids.put(t, new java.util.TreeSet<>(rs.stream().map(r -> r.path("id").asText()).toList())));
        return ids;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
