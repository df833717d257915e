package io.sluice.auth;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The export API with auth on: tokens on kick-off, status and files, owner binding, scope narrowing. */
@QuarkusTest
@TestProfile(AuthTestProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class ExportAuthTest {

    static JsonPath poll(String status, String token) {
        for (int i = 0; i < 600; i++) {
            Response r = given().auth().oauth2(token).get(status);
            if (r.statusCode() == 200) {
                return r.jsonPath();
            }
            assertEquals(202, r.statusCode(), r.asString());
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        fail("export did not finish");
        return null;
    }

    @Test
    void tokensOwnersAndScopes() {
        String writer = AuthClient.token("rsa-client", "system/Patient.cud");
        given().auth().oauth2(writer).contentType("application/fhir+json")
                .body("{\"resourceType\":\"Patient\",\"id\":\"auth-p1\"}").put("/fhir/Patient/auth-p1").then().statusCode(201);
        String reader = AuthClient.token("rsa-client", "system/*.read");
        String other = AuthClient.token("rl-client", "system/*.read");
        String obsOnly = AuthClient.token("obs-client", "system/Observation.rs");

        given().header("Prefer", "respond-async").get("/fhir/$export").then().statusCode(401);
        Response k = given().auth().oauth2(reader).header("Prefer", "respond-async").queryParam("_type", "Patient").get("/fhir/$export");
        assertEquals(202, k.statusCode(), k.asString());
        String status = k.header("Content-Location");
        given().get(status).then().statusCode(401);
        given().auth().oauth2(other).get(status).then().statusCode(404);
        JsonPath m = poll(status, reader);
        assertTrue(m.getBoolean("requiresAccessToken"));
        String file = m.getString("output[0].url");
        given().get(file).then().statusCode(401);
        given().header("Authorization", "Bearer ").get(file).then().statusCode(401);
        given().auth().oauth2(other).get(file).then().statusCode(404);
        Response ok = given().auth().oauth2(reader).get(file);
        assertEquals(200, ok.statusCode());
        assertTrue(ok.asString().contains("auth-p1"));
        given().auth().oauth2(other).delete(status).then().statusCode(404);
        given().auth().oauth2(reader).delete(status).then().statusCode(202);

        // scope narrowing: strict refuses unreadable types, lenient drops and reports them
        given().auth().oauth2(obsOnly).header("Prefer", "respond-async").queryParam("_type", "Patient,Observation")
                .get("/fhir/$export").then().statusCode(403);
        Response lenient = given().auth().oauth2(obsOnly).header("Prefer", "respond-async, handling=lenient")
                .queryParam("_type", "Patient,Observation").get("/fhir/$export");
        assertEquals(202, lenient.statusCode(), lenient.asString());
        JsonPath lm = poll(lenient.header("Content-Location"), obsOnly);
        List<String> types = lm.getList("output.type");
        assertTrue(types.stream().allMatch("Observation"::equals), types.toString());
        String errorFile = lm.getString("error[0].url");
        assertTrue(given().auth().oauth2(obsOnly).get(errorFile).asString().contains("Patient"));
    }
}
