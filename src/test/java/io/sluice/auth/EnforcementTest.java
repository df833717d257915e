package io.sluice.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.ValidatableResponse;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Date;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;

@QuarkusTest
@TestProfile(AuthTestProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class EnforcementTest {

    private static final String PATIENT = "/fhir/Patient/_authprobe";

    private static ValidatableResponse assert401(ValidatableResponse r, String message) {
        return r.statusCode(401)
                .header("WWW-Authenticate", containsString("Bearer realm="))
                .header("WWW-Authenticate", containsString("error=\"invalid_token\""))
                .body("resourceType", equalTo("OperationOutcome"))
                .body("issue[0].diagnostics", containsString(message));
    }

    /** A token signed with the configured server key, with the given claims. */
    private static String serverSigned(com.nimbusds.jose.jwk.JWK key, JWTClaimsSet claims) {
        return AuthClient.sign(key, JWSAlgorithm.ES256, "server-1", AccessTokens.AT_JWT, claims);
    }

    private static JWTClaimsSet.Builder tokenClaims() {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer("sluice").subject("rsa-client").audience(AuthClient.base() + "/fhir")
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(120)))
                .jwtID(UUID.randomUUID().toString()).claim("scope", "system/*.read").claim("tenant", "default");
    }

    @Test
    void missingEmptyGarbageTokensAre401() {
        assert401(given().get(PATIENT).then(), "Authorization");
        assert401(given().header("Authorization", "Bearer ").get(PATIENT).then(), "empty");
        assert401(given().header("Authorization", "Bearer").get(PATIENT).then(), "empty");
        assert401(given().header("Authorization", "Bearer not.a.jwt").get(PATIENT).then(), "signed JWT");
        assert401(given().header("Authorization", "Basic dXNlcjpwYXNz").get(PATIENT).then(), "Authorization");
        assert401(given().get("/fhir/_authprobe-status").then(), "Authorization");
    }

    @Test
    void forgedExpiredAndWrongAudienceTokensAre401() {
        // the real key, right claims: accepted (proves the test tokens are otherwise valid)
        given().auth().oauth2(serverSigned(AuthTestKeys.SERVER, tokenClaims().build())).get(PATIENT).then().statusCode(200)
                .body("owner", equalTo("rsa-client"));
        assert401(given().auth().oauth2(serverSigned(AuthTestKeys.FORGED_SERVER, tokenClaims().build())).get(PATIENT).then(),
                "signature");
        JWTClaimsSet expired = tokenClaims().expirationTime(Date.from(Instant.now().minusSeconds(120))).build();
        assert401(given().auth().oauth2(serverSigned(AuthTestKeys.SERVER, expired)).get(PATIENT).then(), "expired")
                .body("issue[0].code", equalTo("expired"));
        JWTClaimsSet otherAud = tokenClaims().audience("http://localhost/tenants/acme/fhir").build();
        assert401(given().auth().oauth2(serverSigned(AuthTestKeys.SERVER, otherAud)).get(PATIENT).then(), "audience");
        JWTClaimsSet otherIssuer = tokenClaims().issuer("https://evil.example.org").build();
        assert401(given().auth().oauth2(serverSigned(AuthTestKeys.SERVER, otherIssuer)).get(PATIENT).then(), "issuer");
        // a client assertion is not an access token, even though it is validly signed by someone
        assert401(given().auth().oauth2(AuthClient.rsaAssertion("rsa-client")).get(PATIENT).then(), "issuer");
        // no typ at+jwt
        String noTyp = AuthClient.sign(AuthTestKeys.SERVER, JWSAlgorithm.ES256, "server-1", null, tokenClaims().build());
        assert401(given().auth().oauth2(noTyp).get(PATIENT).then(), "at+jwt");
    }

    @Test
    void issuedTokenExpiresByTheClock() {
        // a token whose exp lies within the clock skew is still accepted; one beyond it is refused
        JWTClaimsSet justExpired = tokenClaims().expirationTime(Date.from(Instant.now().minusSeconds(5))).build();
        given().auth().oauth2(serverSigned(AuthTestKeys.SERVER, justExpired)).get(PATIENT).then().statusCode(200);
        JWTClaimsSet longExpired = tokenClaims().expirationTime(Date.from(Instant.now().minusSeconds(31))).build();
        assert401(given().auth().oauth2(serverSigned(AuthTestKeys.SERVER, longExpired)).get(PATIENT).then(), "expired");
    }

    @Test
    void scopeLimitsTypes() {
        String obs = AuthClient.token("obs-client", "system/Observation.rs");
        given().auth().oauth2(obs).get(PATIENT).then().statusCode(403)
                .header("WWW-Authenticate", containsString("insufficient_scope"))
                .body("resourceType", equalTo("OperationOutcome"))
                .body("issue[0].code", equalTo("forbidden"))
                .body("issue[0].diagnostics", containsString("Patient"));
        given().auth().oauth2(obs).get("/fhir/Observation/_authprobe").then().statusCode(200)
                .body("owner", equalTo("obs-client"))
                .body("readable", contains("Observation"))
                .body("mayReadPatient", equalTo(false));
        given().auth().oauth2(obs).post("/fhir/Observation/_authprobe").then().statusCode(403);
        // the export API's status/file paths need just some read scope
        given().auth().oauth2(obs).get("/fhir/_authprobe-status").then().statusCode(200);
        given().auth().oauth2(obs).delete("/fhir/_authprobe-status").then().statusCode(200);
    }

    @Test
    void writesNeedWriteScopes() {
        String readOnly = AuthClient.token("rsa-client", "system/*.read");
        given().auth().oauth2(readOnly).post(PATIENT).then().statusCode(403)
                .body("issue[0].diagnostics", containsString("write"));
        given().auth().oauth2(readOnly).delete(PATIENT).then().statusCode(403);
        String writer = AuthClient.token("rsa-client", "system/Patient.c system/Patient.d");
        given().auth().oauth2(writer).post(PATIENT).then().statusCode(200).body("mayWritePatient", equalTo(true));
        given().auth().oauth2(writer).delete(PATIENT).then().statusCode(200);
        // write-only: no reads
        given().auth().oauth2(writer).get(PATIENT).then().statusCode(403);
        given().auth().oauth2(writer).post("/fhir/Observation/_authprobe").then().statusCode(403);
        String v1Writer = AuthClient.token("rsa-client", "system/Patient.write");
        given().auth().oauth2(v1Writer).post(PATIENT).then().statusCode(200);
    }

    @Test
    void tokensAreBoundToTheirTenant() {
        String acme = AuthClient.token("acme-client", "system/*.read");
        given().auth().oauth2(acme).get("/tenants/acme/fhir/Patient/_authprobe").then().statusCode(200)
                .body("tenant", equalTo("acme")).body("owner", equalTo("acme-client"));
        assert401(given().auth().oauth2(acme).get(PATIENT).then(), "audience");
        String dflt = AuthClient.token("rsa-client", "system/*.read");
        assert401(given().auth().oauth2(dflt).get("/tenants/acme/fhir/Patient/_authprobe").then(), "audience");
        assert401(given().auth().oauth2(dflt).get("/tenants/other/fhir/Patient/_authprobe").then(), "audience");
        // /tenants/default/fhir is the same tenant as /fhir
        given().auth().oauth2(dflt).get("/tenants/default/fhir/Patient/_authprobe").then().statusCode(200);
        // a tenant claim that disagrees with the audience is refused as well
        JWTClaimsSet mixed = tokenClaims().claim("tenant", "acme").build();
        assert401(given().auth().oauth2(serverSigned(AuthTestKeys.SERVER, mixed)).get(PATIENT).then(), "tenant");
    }

    @Test
    void smartConfigurationNeedsNoToken() {
        given().get("/fhir/.well-known/smart-configuration").then().statusCode(200);
        given().header("Authorization", "Bearer garbage").get("/fhir/.well-known/smart-configuration").then().statusCode(200);
    }
}
