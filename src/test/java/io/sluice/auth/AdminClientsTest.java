package io.sluice.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.junit.jupiter.api.Assertions.assertEquals;

@QuarkusTest
@TestProfile(AuthTestProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class AdminClientsTest {

    private static String definition(String id, String jwks, String scopes, String tenant) {
        return "{\"client_id\":\"" + id + "\",\"jwks\":" + jwks + ",\"scopes\":\"" + scopes + "\",\"tenant\":\"" + tenant + "\"}";
    }

    @Test
    void adminEndpointNeedsItsCredential() {
        given().get("/admin/clients").then().statusCode(401).header("WWW-Authenticate", containsString("Bearer"));
        given().auth().oauth2("wrong").get("/admin/clients").then().statusCode(401);
        // an access token is not the admin credential
        given().auth().oauth2(AuthClient.token("rsa-client", "system/*.read")).get("/admin/clients").then().statusCode(401);
        given().body("{}").post("/admin/clients").then().statusCode(401);
        given().delete("/admin/clients/rsa-client").then().statusCode(401);
        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).get("/admin/clients").then().statusCode(200)
                .body("client_id", hasItems("rsa-client", "ec-client"));
    }

    @Test
    void registeredClientGetsTokensUntilDeleted() throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_384).keyID("admin-ec").keyUse(KeyUse.SIGNATURE).generate();
        String body = definition("admin-client", AuthTestKeys.publicJwks(key), "system/*.rs", "acme");
        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).contentType("application/json").body(body)
                .post("/admin/clients").then().statusCode(201)
                .body("client_id", equalTo("admin-client")).body("tenant", equalTo("acme")).body("source", equalTo("admin"));
        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).contentType("application/json").body(body)
                .post("/admin/clients").then().statusCode(409).body("resourceType", equalTo("OperationOutcome"));
        try (var c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT tenant, scopes FROM auth_client WHERE client_id = 'admin-client'");
            rs.next();
            assertEquals("acme", rs.getString(1));
            assertEquals("system/*.rs", rs.getString(2));
        }
        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).get("/admin/clients/admin-client").then().statusCode(200)
                .body("jwks.keys[0].kid", equalTo("admin-ec"));

        String assertion = AuthClient.sign(key, JWSAlgorithm.ES384, AuthClient.assertionClaims("admin-client").build());
        String token = AuthClient.requestToken(assertion, "system/*.rs").then().statusCode(200)
                .extract().jsonPath().getString("access_token");
        given().auth().oauth2(token).get("/tenants/acme/fhir/Patient/_authprobe").then().statusCode(200)
                .body("owner", equalTo("admin-client"));

        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).delete("/admin/clients/admin-client").then().statusCode(204);
        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).delete("/admin/clients/admin-client").then().statusCode(404);
        String again = AuthClient.sign(key, JWSAlgorithm.ES384, AuthClient.assertionClaims("admin-client").build());
        AuthClient.requestToken(again, "system/*.rs").then().statusCode(401).body("error", equalTo("invalid_client"));
    }

    @Test
    void badDefinitionsAreRefused() throws Exception {
        var admin = given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).contentType("application/json");
        ECKey key = new ECKeyGenerator(Curve.P_384).keyID("k").generate();
        // private key material
        admin.body(definition("c1", new com.nimbusds.jose.jwk.JWKSet(key).toString(false), "system/*.rs", "default"))
                .post("/admin/clients").then().statusCode(400).body("issue[0].diagnostics", containsString("private"));
        String pub = AuthTestKeys.publicJwks(key);
        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).contentType("application/json")
                .body(definition("c2", pub, "user/*.read", "default"))
                .post("/admin/clients").then().statusCode(400).body("issue[0].diagnostics", containsString("scopes"));
        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).contentType("application/json")
                .body(definition("c3", pub, "system/*.rs", "Not_A_Tenant"))
                .post("/admin/clients").then().statusCode(400).body("issue[0].diagnostics", containsString("tenant"));
        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).contentType("application/json")
                .body(definition("c4", "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"x\"}]}", "system/*.rs", "default"))
                .post("/admin/clients").then().statusCode(400);
        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).contentType("application/json").body("{not json")
                .post("/admin/clients").then().statusCode(400).body("resourceType", equalTo("OperationOutcome"));
        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).contentType("application/json")
                .body(definition("rsa-client", pub, "system/*.rs", "default"))
                .post("/admin/clients").then().statusCode(409);
        given().auth().oauth2(AuthTestProfile.ADMIN_TOKEN).delete("/admin/clients/rsa-client").then().statusCode(409);
    }
}
