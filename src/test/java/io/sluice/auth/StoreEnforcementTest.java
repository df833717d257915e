package io.sluice.auth;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

/** Enforcement on the real FHIR store endpoints (merged from the store branch). */
@QuarkusTest
@TestProfile(AuthTestProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class StoreEnforcementTest {

    static final String FHIR = "application/fhir+json";
    static final String PATIENT = "{\"resourceType\":\"Patient\",\"active\":true}";

    @Test
    void metadataIsPublicEverythingElseNeedsATokenWithTheRightScope() {
        given().get("/fhir/metadata").then().statusCode(200).body("resourceType", equalTo("CapabilityStatement"));
        given().header("Authorization", "Bearer ").get("/tenants/acme/fhir/metadata").then().statusCode(200);

        given().contentType(FHIR).body(PATIENT).post("/fhir/Patient").then().statusCode(401)
                .header("WWW-Authenticate", containsString("invalid_token"))
                .body("resourceType", equalTo("OperationOutcome"));

        String readOnly = AuthClient.token("rsa-client", "system/*.read");
        given().auth().oauth2(readOnly).contentType(FHIR).body(PATIENT).post("/fhir/Patient").then().statusCode(403)
                .body("resourceType", equalTo("OperationOutcome"));

        String writer = AuthClient.token("rsa-client", "system/Patient.cud");
        String id = given().auth().oauth2(writer).contentType(FHIR).body(PATIENT).post("/fhir/Patient")
                .then().statusCode(201).extract().jsonPath().getString("id");

        given().get("/fhir/Patient/" + id).then().statusCode(401);
        given().auth().oauth2(writer).get("/fhir/Patient/" + id).then().statusCode(403);
        given().auth().oauth2(readOnly).get("/fhir/Patient/" + id).then().statusCode(200).body("id", equalTo(id));
        given().auth().oauth2(readOnly).get("/fhir/Patient/" + id + "/_history/1").then().statusCode(200);
        String obsOnly = AuthClient.token("obs-client", "system/Observation.rs");
        given().auth().oauth2(obsOnly).get("/fhir/Patient/" + id).then().statusCode(403)
                .body("issue[0].code", equalTo("forbidden"));

        // a transaction at the base, and $ingest at the base, need write access to every type
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":" + PATIENT
                + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}";
        given().auth().oauth2(writer).contentType(FHIR).body(bundle).post("/fhir").then().statusCode(403);
        given().auth().oauth2(writer).contentType("application/fhir+ndjson").body((PATIENT + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .post("/fhir/$ingest").then().statusCode(403);
        given().auth().oauth2(writer).delete("/fhir/Patient/" + id).then().statusCode(204);

        // another tenant's base
        given().auth().oauth2(readOnly).get("/tenants/acme/fhir/Patient/" + id).then().statusCode(401);
        given().auth().oauth2(readOnly).get("/tenants/Bad_Tenant/fhir/Patient/" + id).then().statusCode(400);
    }
}
