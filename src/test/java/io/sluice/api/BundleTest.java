package io.sluice.api;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.util.HashSet;
import java.util.Set;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
class BundleTest {

    static final String FHIR = "application/fhir+json";

    @Test
    void transactionResolvesUrnsEverywhereAndWritesAtomically() throws Exception {
        given().contentType(FHIR).body("{\"resourceType\":\"Patient\",\"id\":\"to-delete\"}")
                .put("/tenants/tx/fhir/Patient/to-delete").then().statusCode(201);
        String bundle = """
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"fullUrl":"urn:uuid:0a3b6c7e-1111-4a5b-9c1d-000000000001",
                  "resource":{"resourceType":"Patient","id":"0a3b6c7e-1111-4a5b-9c1d-000000000001",
                              "managingOrganization":{"reference":"urn:uuid:0a3b6c7e-1111-4a5b-9c1d-000000000003"}},
                  "request":{"method":"POST","url":"Patient"}},
                 {"fullUrl":"urn:uuid:0a3b6c7e-1111-4a5b-9c1d-000000000002",
                  "resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
                              "subject":{"reference":"urn:uuid:0a3b6c7e-1111-4a5b-9c1d-000000000001"},
                              "extension":[{"url":"http://example.org/x","valueReference":{"reference":"urn:uuid:0a3b6c7e-1111-4a5b-9c1d-000000000001"}}],
                              "performer":[{"reference":"urn:uuid:0a3b6c7e-1111-4a5b-9c1d-000000000003"}]},
                  "request":{"method":"POST","url":"Observation"}},
                 {"fullUrl":"urn:uuid:0a3b6c7e-1111-4a5b-9c1d-000000000003",
                  "resource":{"resourceType":"Organization","id":"org-1","name":"Acme"},
                  "request":{"method":"PUT","url":"Organization/org-1"}},
                 {"request":{"method":"DELETE","url":"Patient/to-delete"}}
                ]}""";
        Response r = given().contentType(FHIR).body(bundle).post("/tenants/tx/fhir");
        r.then().statusCode(200).contentType(containsString(FHIR))
                .body("resourceType", equalTo("Bundle"))
                .body("type", equalTo("transaction-response"))
                .body("entry[0].response.status", equalTo("201 Created"))
                .body("entry[1].response.status", equalTo("201 Created"))
                .body("entry[2].response.status", equalTo("201 Created"))
                .body("entry[2].response.location", equalTo("Organization/org-1/_history/1"))
                .body("entry[3].response.status", startsWith("204"))
                .body("entry[0].response.etag", equalTo("W/\"1\""));
        String patientLoc = r.jsonPath().getString("entry[0].response.location");
        String patientId = patientLoc.split("/")[1];
        assertTrue(!patientId.equals("0a3b6c7e-1111-4a5b-9c1d-000000000001"), "POST gets a server id");
        String obsId = r.jsonPath().getString("entry[1].response.location").split("/")[1];

        given().get("/tenants/tx/fhir/Observation/" + obsId).then().statusCode(200)
                .body("subject.reference", equalTo("Patient/" + patientId))
                .body("extension[0].valueReference.reference", equalTo("Patient/" + patientId))
                .body("performer[0].reference", equalTo("Organization/org-1"));
        given().get("/tenants/tx/fhir/Patient/" + patientId).then().statusCode(200)
                .body("managingOrganization.reference", equalTo("Organization/org-1"));
        given().get("/tenants/tx/fhir/Patient/to-delete").then().statusCode(410);
        given().get("/fhir/Organization/org-1").then().statusCode(404);

        try (Connection c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT patient_id, resource_type FROM resource_compartment WHERE tenant = 'tx' "
                    + "AND id IN ('" + obsId + "', '" + patientId + "')");
            Set<String> rows = new HashSet<>();
            while (rs.next()) {
                rows.add(rs.getString(2) + ":" + rs.getString(1));
            }
            assertEquals(Set.of("Observation:" + patientId, "Patient:" + patientId), rows);
            rs = s.executeQuery("SELECT count(DISTINCT valid_from) FROM resource_version WHERE tenant = 'tx' AND valid_from > now() - interval '1 hour'");
            rs.next();
            assertTrue(rs.getInt(1) >= 1);
        }
    }

    @Test
    void badEntryStoresNothing() throws Exception {
        long before = count();
        String bundle = """
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"resource":{"resourceType":"Patient","id":"atomic-1"},"request":{"method":"PUT","url":"Patient/atomic-1"}},
                 {"fullUrl":"urn:uuid:5e2f1a44-0000-4000-8000-00000000000a","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
                 {"resource":{"resourceType":"Observation","status":"final","subject":{"reference":"urn:uuid:5e2f1a44-0000-4000-8000-00000000000a"}},
                  "request":{"method":"POST","url":"Patient"}}
                ]}""";
        given().contentType(FHIR).body(bundle).post("/fhir").then().statusCode(400)
                .body("resourceType", equalTo("OperationOutcome"))
                .body("issue[0].diagnostics", containsString("entry[2]"));
        // a dangling urn reference
        given().contentType(FHIR).body("""
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"resource":{"resourceType":"Patient","id":"atomic-1"},"request":{"method":"PUT","url":"Patient/atomic-1"}},
                 {"resource":{"resourceType":"Observation","subject":{"reference":"urn:uuid:99999999-0000-4000-8000-000000000000"}},
                  "request":{"method":"POST","url":"Observation"}}]}""").post("/fhir").then().statusCode(400)
                .body("issue[0].diagnostics", containsString("urn:uuid:99999999"));
        // the same resource twice
        given().contentType(FHIR).body("""
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"resource":{"resourceType":"Patient","id":"atomic-1"},"request":{"method":"PUT","url":"Patient/atomic-1"}},
                 {"request":{"method":"DELETE","url":"Patient/atomic-1"}}]}""").post("/fhir").then().statusCode(400)
                .body("issue[0].diagnostics", containsString("more than once"));
        given().get("/fhir/Patient/atomic-1").then().statusCode(404);
        assertEquals(before, count(), "no version written by a failed transaction");
    }

    @Test
    void batchEntriesAreIndependent() {
        String bundle = """
                {"resourceType":"Bundle","type":"batch","entry":[
                 {"resource":{"resourceType":"Patient","id":"batch-1"},"request":{"method":"PUT","url":"Patient/batch-1"}},
                 {"resource":{"resourceType":"Patient","id":"batch-2"},"request":{"method":"PUT","url":"Patient/other"}},
                 {"resource":{"resourceType":"Nope"},"request":{"method":"POST","url":"Nope"}},
                 {"resource":{"resourceType":"Observation","status":"final"},"request":{"method":"POST","url":"Observation"}},
                 {"request":{"method":"DELETE","url":"Patient/batch-1"}}
                ]}""";
        Response r = given().contentType(FHIR).body(bundle).post("/fhir");
        r.then().statusCode(200).body("type", equalTo("batch-response"))
                .body("entry[0].response.status", equalTo("201 Created"))
                .body("entry[1].response.status", equalTo("400 Bad Request"))
                .body("entry[1].response.outcome.resourceType", equalTo("OperationOutcome"))
                .body("entry[1].response.outcome.issue[0].diagnostics", containsString("does not match"))
                .body("entry[2].response.status", equalTo("400 Bad Request"))
                .body("entry[2].response.outcome.issue[0].diagnostics", containsString("Nope"))
                .body("entry[3].response.status", equalTo("201 Created"))
                .body("entry[4].response.status", startsWith("204"));
        given().get("/fhir/Patient/batch-1").then().statusCode(410);
        given().get("/fhir/Patient/batch-1/_history/1").then().statusCode(200);
        given().get("/fhir/" + r.jsonPath().getString("entry[3].response.location")).then().statusCode(200)
                .body("status", equalTo("final"));
    }

    private static long count() throws Exception {
        try (Connection c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT count(*) FROM resource_version");
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Two transactions that cross (each updates one resource and deletes the other) lock the two heads
     * in opposite orders; PostgreSQL aborts one as a deadlock victim. The store re-runs it, so every
     * Bundle succeeds and each write lands exactly once.
     */
    @Test
    void crossingTransactionsNeverFailOnADeadlock() throws Exception {
        String tenant = "/tenants/crossing/fhir";
        int rounds = 40;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            for (int i = 0; i < rounds; i++) {
                for (String id : new String[]{"a" + i, "b" + i}) {
                    given().contentType(FHIR).body("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}")
                            .put(tenant + "/Patient/" + id).then().statusCode(201);
                }
                String ab = crossing("a" + i, "b" + i);
                String ba = crossing("b" + i, "a" + i);
                var first = pool.submit(() -> given().contentType(FHIR).body(ab).post(tenant).statusCode());
                var second = pool.submit(() -> given().contentType(FHIR).body(ba).post(tenant).statusCode());
                assertEquals(200, first.get());
                assertEquals(200, second.get());
            }
        } finally {
            pool.shutdownNow();
        }
        // each Patient got its update and its delete: version 1 (create), 2 and 3 in some order
        try (Connection c = PostgresTestResource.jdbc(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT count(*), min(version_id), max(version_id), bool_and(deleted) FROM resource WHERE tenant = 'crossing'")) {
            rs.next();
            assertEquals(2 * rounds, rs.getInt(1));
            assertEquals(3, rs.getInt(2));
            assertEquals(3, rs.getInt(3));
        }
    }

    private static String crossing(String update, String delete) {
        return """
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"resource":{"resourceType":"Patient","id":"%s","gender":"other"},"request":{"method":"PUT","url":"Patient/%s"}},
                 {"request":{"method":"DELETE","url":"Patient/%s"}}]}""".formatted(update, update, delete);
    }
}
