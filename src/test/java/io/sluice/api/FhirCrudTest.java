package io.sluice.api;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
class FhirCrudTest {

    static final String FHIR = "application/fhir+json";

    @Test
    void createReadUpdateVreadDeleteWithHeadersAndVersionRows() throws Exception {
        Response created = given().contentType(FHIR)
                .body("{\"resourceType\":\"Patient\",\"id\":\"ignored\",\"active\":true,\"meta\":{\"versionId\":\"77\",\"source\":\"x\"},"
                        + "\"extension\":[{\"url\":\"u\",\"valueDecimal\":1.50}]}")
                .post("/fhir/Patient");
        created.then().statusCode(201)
                .contentType(containsString(FHIR))
                .header("ETag", "W/\"1\"")
                .header("Last-Modified", notNullValue())
                .header("Location", containsString("/fhir/Patient/"))
                .header("Location", endsWith("/_history/1"))
                .body("meta.versionId", equalTo("1"))
                .body("meta.source", equalTo("x"));
        String id = created.jsonPath().getString("id");
        assertTrue(!id.equals("ignored"), "server assigns the id on create");
        String v1 = created.asString();
        assertTrue(v1.contains("\"valueDecimal\":1.50"), "decimal precision kept: " + v1);
        assertTrue(v1.startsWith("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"meta\":{\"versionId\":\"1\",\"lastUpdated\":\""), v1);

        Response read = given().get("/fhir/Patient/" + id);
        read.then().statusCode(200).header("ETag", "W/\"1\"").contentType(containsString(FHIR));
        assertEquals(v1, read.asString(), "GET serves exactly the stored text");

        Response updated = given().contentType("application/json")
                .body("{\n  \"resourceType\": \"Patient\",\n  \"id\": \"" + id + "\",\n  \"active\": false\n}")
                .put("/fhir/Patient/" + id);
        updated.then().statusCode(200).header("ETag", "W/\"2\"").header("Location", endsWith("/Patient/" + id + "/_history/2"))
                .body("meta.versionId", equalTo("2")).body("active", equalTo(false));
        assertTrue(!updated.asString().contains("\n"), "stored minified");

        given().get("/fhir/Patient/" + id + "/_history/1").then().statusCode(200)
                .header("ETag", "W/\"1\"").body("active", equalTo(true));
        assertEquals(v1, given().get("/fhir/Patient/" + id + "/_history/1").asString());
        given().get("/fhir/Patient/" + id + "/_history/2").then().statusCode(200).body("active", equalTo(false));
        given().get("/fhir/Patient/" + id + "/_history/3").then().statusCode(404).body("resourceType", equalTo("OperationOutcome"));

        given().delete("/fhir/Patient/" + id).then().statusCode(204);
        given().get("/fhir/Patient/" + id).then().statusCode(410)
                .contentType(containsString(FHIR))
                .body("resourceType", equalTo("OperationOutcome"))
                .body("issue[0].code", equalTo("deleted"));
        given().get("/fhir/Patient/" + id + "/_history/3").then().statusCode(410);
        given().get("/fhir/Patient/" + id + "/_history/2").then().statusCode(200);

        // PUT re-creates after delete as version 4
        given().contentType(FHIR).body("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}")
                .put("/fhir/Patient/" + id).then().statusCode(200).header("ETag", "W/\"4\"");

        try (Connection c = PostgresTestResource.jdbc();
             PreparedStatement ps = c.prepareStatement("""
                     SELECT version_id, valid_from, valid_to, deleted, content FROM resource_version
                      WHERE tenant = 'default' AND resource_type = 'Patient' AND id = ? ORDER BY version_id""")) {
            ps.setString(1, id);
            ResultSet rs = ps.executeQuery();
            List<Timestamp[]> rows = new ArrayList<>();
            List<Boolean> deleted = new ArrayList<>();
            while (rs.next()) {
                assertEquals(rows.size() + 1, rs.getLong(1));
                rows.add(new Timestamp[]{rs.getTimestamp(2), rs.getTimestamp(3)});
                deleted.add(rs.getBoolean(4));
                if (!rs.getBoolean(4)) {
                    String content = rs.getString(5);
                    Instant from = rs.getTimestamp(2).toInstant();
                    assertTrue(content.contains("\"lastUpdated\":\"" + from + "\""),
                            "meta.lastUpdated equals valid_from " + from + ": " + content);
                } else {
                    assertNull(rs.getString(5));
                }
            }
            assertEquals(List.of(false, false, true, false), deleted);
            for (int i = 0; i < rows.size() - 1; i++) {
                assertEquals(rows.get(i + 1)[0], rows.get(i)[1], "valid_to of v" + (i + 1) + " = valid_from of the next");
                assertTrue(!rows.get(i)[0].after(rows.get(i)[1]));
            }
            assertNull(rows.get(3)[1], "current version open");
        }
    }

    @Test
    void putCreatesWithClientIdAndLastModifiedMatchesMeta() {
        Response r = given().contentType(FHIR).body("{\"resourceType\":\"Observation\",\"id\":\"obs-1.a\",\"status\":\"final\","
                        + "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p1\"}}")
                .put("/fhir/Observation/obs-1.a");
        r.then().statusCode(201).header("ETag", "W/\"1\"").header("Location", endsWith("/fhir/Observation/obs-1.a/_history/1"));
        String lastUpdated = r.jsonPath().getString("meta.lastUpdated");
        assertTrue(lastUpdated.endsWith("Z"), lastUpdated);
        Instant lu = Instant.parse(lastUpdated);
        String lm = r.getHeader("Last-Modified");
        assertEquals(lu.getEpochSecond(), java.time.ZonedDateTime.parse(lm, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME)
                .toEpochSecond());
    }

    @Test
    void concurrentWritersOfOneResourceGetContiguousVersions() throws Exception {
        int writers = 12;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(6);
        List<java.util.concurrent.Future<Integer>> results = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            int n = i;
            results.add(pool.submit(() -> given().contentType(FHIR)
                    .body("{\"resourceType\":\"Patient\",\"id\":\"contended\",\"birthDate\":\"2000-01-" + (10 + n) + "\"}")
                    .put("/tenants/race/fhir/Patient/contended").statusCode()));
        }
        for (var f : results) {
            int status = f.get();
            assertTrue(status == 200 || status == 201, "status " + status);
        }
        pool.shutdown();
        try (Connection c = PostgresTestResource.jdbc(); var st = c.createStatement()) {
            ResultSet rs = st.executeQuery("""
                    SELECT version_id, valid_from, valid_to, lead(valid_from) OVER (ORDER BY version_id) AS next_from, content
                      FROM resource_version WHERE tenant = 'race' AND id = 'contended' ORDER BY version_id""");
            int expected = 1;
            while (rs.next()) {
                assertEquals(expected, rs.getLong(1));
                assertEquals(rs.getTimestamp(4), rs.getTimestamp(3));
                assertTrue(rs.getString(5).contains("\"versionId\":\"" + expected + "\""));
                expected++;
            }
            assertEquals(writers + 1, expected);
        }
        given().get("/tenants/race/fhir/Patient/contended").then().statusCode(200).header("ETag", "W/\"" + writers + "\"");
    }

    @Test
    void groupVersionsStoreTheirMembers() throws Exception {
        given().contentType(FHIR).body("""
                {"resourceType":"Group","id":"grp","type":"person","actual":true,"member":[
                 {"entity":{"reference":"Patient/a"},"period":{"start":"2020-01-01T00:00:00+05:00","end":"2021"}},
                 {"entity":{"reference":"Group/inner"},"inactive":true},
                 {"entity":{"reference":"Device/d"}}]}""").put("/fhir/Group/grp").then().statusCode(201);
        given().contentType(FHIR).body("""
                {"resourceType":"Group","id":"grp","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/b"}}]}""")
                .put("/fhir/Group/grp").then().statusCode(200);
        try (Connection c = PostgresTestResource.jdbc(); var st = c.createStatement()) {
            ResultSet rs = st.executeQuery("""
                    SELECT version_id, member_type, member_id, period_start, period_end, inactive FROM group_member
                     WHERE tenant = 'default' AND group_id = 'grp' ORDER BY version_id, member_id""");
            List<String> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(rs.getLong(1) + " " + rs.getString(2) + "/" + rs.getString(3) + " "
                        + (rs.getTimestamp(4) == null ? "-" : rs.getTimestamp(4).toInstant()) + " "
                        + (rs.getTimestamp(5) == null ? "-" : rs.getTimestamp(5).toInstant()) + " " + rs.getBoolean(6));
            }
            assertEquals(List.of("1 Patient/a 2019-12-31T19:00:00Z 2022-01-01T00:00:00Z false",
                    "1 Group/inner - - true",
                    "2 Patient/b - - false"), rows);
            rs = st.executeQuery("SELECT patient_id, version_id FROM resource_compartment WHERE tenant = 'default' "
                    + "AND resource_type = 'Group' AND id = 'grp' ORDER BY version_id");
            rs.next();
            assertEquals("a", rs.getString(1));
            rs.next();
            assertEquals("b", rs.getString(1));
        }
    }

    @Test
    void tenantsAreIsolated() {
        given().contentType(FHIR).body("{\"resourceType\":\"Patient\",\"id\":\"shared-id\",\"gender\":\"female\"}")
                .put("/tenants/acme/fhir/Patient/shared-id").then().statusCode(201)
                .header("Location", containsString("/tenants/acme/fhir/Patient/shared-id/_history/1"));
        given().get("/fhir/Patient/shared-id").then().statusCode(404).body("resourceType", equalTo("OperationOutcome"));
        given().get("/tenants/other/fhir/Patient/shared-id").then().statusCode(404);
        given().get("/tenants/acme/fhir/Patient/shared-id").then().statusCode(200).body("gender", equalTo("female"));
        given().contentType(FHIR).body("{\"resourceType\":\"Patient\",\"id\":\"shared-id\",\"gender\":\"male\"}")
                .put("/fhir/Patient/shared-id").then().statusCode(201);
        given().get("/tenants/acme/fhir/Patient/shared-id").then().statusCode(200).body("gender", equalTo("female"))
                .header("ETag", "W/\"1\"");
        given().get("/tenants/default/fhir/Patient/shared-id").then().statusCode(200).body("gender", equalTo("male"));
        given().delete("/tenants/acme/fhir/Patient/shared-id").then().statusCode(204);
        given().get("/fhir/Patient/shared-id").then().statusCode(200);
        given().get("/tenants/Bad_Tenant/fhir/Patient/x").then().statusCode(400)
                .body("resourceType", equalTo("OperationOutcome"))
                .body("issue[0].diagnostics", containsString("tenant"));
    }

    @Test
    void metadataIsACapabilityStatement() {
        given().get("/fhir/metadata").then().statusCode(200).contentType(containsString(FHIR))
                .body("resourceType", equalTo("CapabilityStatement"))
                .body("fhirVersion", equalTo("4.0.1"))
                .body("rest[0].resource.find { it.type == 'Observation' }.interaction.code", org.hamcrest.Matchers.hasItems("read", "vread", "create", "update", "delete"))
                .body("rest[0].interaction.code", org.hamcrest.Matchers.hasItems("transaction", "batch"));
        given().get("/tenants/t1/fhir/metadata").then().statusCode(200).body("implementation.url", endsWith("/tenants/t1/fhir"))
                .body("rest[0].security", org.hamcrest.Matchers.nullValue());
        given().header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "fhir.example.org")
                .get("/fhir/metadata").then().statusCode(200).body("implementation.url", equalTo("https://fhir.example.org/fhir"));
        // the same root as the token endpoint's (auth.PublicUrls): port and prefix from the proxy, default port dropped
        given().header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "fhir.example.org")
                .header("X-Forwarded-Port", "8443").header("X-Forwarded-Prefix", "/sluice/")
                .get("/fhir/metadata").then().statusCode(200).body("implementation.url", equalTo("https://fhir.example.org:8443/sluice/fhir"));
        given().header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "fhir.example.org").header("X-Forwarded-Port", "443")
                .get("/fhir/metadata").then().statusCode(200).body("implementation.url", equalTo("https://fhir.example.org/fhir"));
    }

    @Test
    void dollarSegmentsDoNotHitResourceRoutes() {
        // the export API answers these (400: no Prefer: respond-async), never the {type}/{id} routes
        given().get("/fhir/$export").then().statusCode(400).body("resourceType", equalTo("OperationOutcome"))
                .body("issue[0].diagnostics", containsString("respond-async"));
        given().get("/fhir/Patient/$export").then().statusCode(400).body("issue[0].diagnostics", containsString("respond-async"));
        given().get("/fhir/Group/g1/$export").then().statusCode(400).body("issue[0].diagnostics", containsString("respond-async"));
        given().get("/fhir/$ingest").then().statusCode(405).body("resourceType", equalTo("OperationOutcome"));
    }

    @Test
    void badInputsGiveOperationOutcomes() {
        // malformed JSON
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Patient\",").post("/fhir/Patient"), 400, "malformed JSON");
        bad(given().contentType(FHIR).body("[1,2]").post("/fhir/Patient"), 400, "JSON object");
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Patient\",\"a\":1,\"a\":2}").post("/fhir/Patient"), 400, "Duplicate");
        bad(given().contentType(FHIR).body("").post("/fhir/Patient"), 400, "empty");
        // unknown resource type in body and URL
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Patientt\"}").post("/fhir/Patient"), 400, "Patientt");
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Foo\"}").post("/fhir/Foo"), 404, "Foo");
        bad(given().get("/fhir/Foo/1"), 404, "unknown resource type");
        // body type differs from URL type
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Observation\"}").post("/fhir/Patient"), 400, "does not match");
        // id mismatch and missing id on update
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Patient\",\"id\":\"b\"}").put("/fhir/Patient/a"), 400, "does not match");
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Patient\"}").put("/fhir/Patient/a"), 400, "no id");
        // bad id syntax in URL and body
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Patient\",\"id\":\"a_b\"}").put("/fhir/Patient/a_b"), 400, "invalid resource id");
        bad(given().get("/fhir/Patient/" + "x".repeat(65)), 400, "invalid resource id");
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Patient\",\"id\":5}").put("/fhir/Patient/a"), 400, "invalid resource id");
        // wrong content type
        bad(given().contentType("application/xml").body("<Patient/>").post("/fhir/Patient"), 415, "Content-Type");
        bad(given().contentType("text/plain").body("{}").post("/fhir/$ingest"), 415, "Content-Type");
        // oversize body
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Patient\",\"text\":\"" + "x".repeat(70 * 1024 * 1024) + "\"}")
                .post("/fhir/Patient"), 413, "exceeds");
        // unknown route, wrong method
        bad(given().get("/fhir/patient/1"), 404, "no such route");
        bad(given().get("/nothing/here"), 404, "no such route");
        bad(given().contentType(FHIR).body("{}").patch("/fhir/Patient/1"), 405, "PATCH");
        bad(given().delete("/fhir/Patient"), 405, "DELETE");
        // not found, bad version
        bad(given().get("/fhir/Patient/does-not-exist"), 404, "not found");
        bad(given().get("/fhir/Patient/x/_history/abc"), 400, "version");
        // bundle problems
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Bundle\",\"type\":\"collection\"}").post("/fhir"), 400, "transaction");
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Patient\"}").post("/fhir"), 400, "Bundle");
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"request\":"
                + "{\"method\":\"PATCH\",\"url\":\"Patient/1\"}}]}").post("/fhir"), 400, "PATCH");
        bad(given().contentType(FHIR).body("{\"resourceType\":\"Group\",\"id\":\"g\",\"type\":\"person\",\"actual\":true,"
                + "\"member\":[{\"entity\":{\"reference\":\"Patient/p\"},\"period\":{\"start\":\"yesterday\"}}]}")
                .put("/fhir/Group/g"), 400, "period.start");
    }

    /**
     * Body limits hold before the body is read and always answer with an OperationOutcome: an announced
     * body over {@code sluice.store.max-body-bytes} on a resource route, over the server-wide limit on
     * {@code $ingest} (above Quarkus's own check, which would answer a bare 413), and a chunked body that
     * grows past the limit (read up to it, then refused), whose answer used to be Quarkus's bare 413;
     * a chunked body under the limit is stored.
     */
    @Test
    void bodiesOverTheLimitsAreRefusedWithAnOperationOutcome() throws Exception {
        int port = io.restassured.RestAssured.port;
        String ingest = RawHttp.exchange(port, "POST /fhir/$ingest HTTP/1.1\r\nContent-Type: application/fhir+ndjson\r\n"
                + "Content-Length: 5000000000000\r\n\r\n", null);
        RawHttp.assertOutcome(ingest, 413, "exceeds the limit of 1099511627776 bytes");
        String create = RawHttp.exchange(port, "POST /fhir/Patient HTTP/1.1\r\nContent-Type: application/fhir+json\r\n"
                + "Content-Length: 5000000000\r\n\r\n", null);
        RawHttp.assertOutcome(create, 413, "exceeds the limit of 67108864 bytes");
        String chunked = RawHttp.exchange(port, "PUT /fhir/Patient/chunky HTTP/1.1\r\nContent-Type: application/fhir+json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n", RawHttp.endlessPatient(80 * 1024 * 1024));
        RawHttp.assertOutcome(chunked, 413, "request body exceeds the limit of 67108864 bytes");
        given().get("/fhir/Patient/chunky").then().statusCode(404);
        // form and multipart bodies of unannounced length too (Quarkus's own reading of them gave a bare 413)
        for (String form : List.of("application/x-www-form-urlencoded", "multipart/form-data; boundary=b")) {
            String kickoff = RawHttp.exchange(port, "POST /fhir/$export HTTP/1.1\r\nContent-Type: " + form
                    + "\r\nPrefer: respond-async\r\nTransfer-Encoding: chunked\r\n\r\n", RawHttp.endlessPatient(80 * 1024 * 1024));
            RawHttp.assertOutcome(kickoff, 413, "request body exceeds the limit of 67108864 bytes");
        }
        String smallForm = RawHttp.exchange(port, "POST /fhir/$export HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded"
                + "\r\nPrefer: respond-async\r\nTransfer-Encoding: chunked\r\n\r\n", "_type=Patient".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        RawHttp.assertOutcome(smallForm, 415, "POST $export needs a Parameters body as application/fhir+json");
        // the token endpoint asks for a Content-Length before it reads anything (its own OAuth error)
        String token = RawHttp.exchange(port, "POST /auth/token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded"
                + "\r\nTransfer-Encoding: chunked\r\n\r\n", RawHttp.endlessPatient(80 * 1024 * 1024));
        assertTrue(token.startsWith("HTTP/1.1 411 ") && token.contains("\"error\":\"invalid_request\""), token);
        // a chunked body under the limit is read by the limit's route and stored like any other
        byte[] patient = ("{\"resourceType\":\"Patient\",\"id\":\"chunky\",\"name\":[{\"family\":\"" + "y".repeat(3 << 20) + "\"}]}")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        String stored = RawHttp.exchange(port, "PUT /fhir/Patient/chunky HTTP/1.1\r\nContent-Type: application/fhir+json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n", patient);
        assertTrue(stored.startsWith("HTTP/1.1 201 "), stored.substring(0, Math.min(400, stored.length())));
        given().get("/fhir/Patient/chunky").then().statusCode(200).body("name[0].family.length()", equalTo(3 << 20));
    }

    private static void bad(Response r, int status, String text) {
        r.then().statusCode(status)
                .contentType(containsString(FHIR))
                .body("resourceType", equalTo("OperationOutcome"))
                .body("issue[0].severity", equalTo("error"))
                .body("issue[0].diagnostics", containsString(text));
        assertNotNull(r.jsonPath().getString("issue[0].code"));
    }
}
