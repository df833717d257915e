package io.sluice.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Date;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

@QuarkusTest
@TestProfile(AuthTestProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class ExternalIssuerTest {

    private static JWTClaimsSet.Builder claims() {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(AuthTestProfile.EXTERNAL_ISSUER).subject("service-account-42")
                .audience(AuthClient.base() + "/fhir").claim("azp", "ext-app")
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300)))
                .claim("scope", "system/Patient.rs openid profile");
    }

    private static String sign(JWK key, JWTClaimsSet c) {
        return AuthClient.sign(key, JWSAlgorithm.RS256, c);
    }

    @Test
    void tokensOfTheExternalIssuerAreAccepted() {
        given().auth().oauth2(sign(AuthTestKeys.EXTERNAL, claims().build())).get("/fhir/Patient/_authprobe")
                .then().statusCode(200).body("owner", equalTo("ext-app")).body("tenant", equalTo("default"));
        // client_id wins over azp; scp as a list
        JWTClaimsSet withClientId = claims().claim("client_id", "ext-client").claim("scope", null)
                .claim("scp", List.of("system/Observation.rs")).build();
        given().auth().oauth2(sign(AuthTestKeys.EXTERNAL, withClientId)).get("/fhir/Observation/_authprobe")
                .then().statusCode(200).body("owner", equalTo("ext-client"));
        given().auth().oauth2(sign(AuthTestKeys.EXTERNAL, withClientId)).get("/fhir/Patient/_authprobe")
                .then().statusCode(403);
        // tenant claim
        JWTClaimsSet acme = claims().audience(AuthClient.base() + "/tenants/acme/fhir").claim("tenant", "acme").build();
        given().auth().oauth2(sign(AuthTestKeys.EXTERNAL, acme)).get("/tenants/acme/fhir/Patient/_authprobe")
                .then().statusCode(200).body("tenant", equalTo("acme"));
    }

    @Test
    void forgedOrMismatchedExternalTokensAre401() {
        given().auth().oauth2(sign(AuthTestKeys.EXTERNAL_OTHER, claims().build())).get("/fhir/Patient/_authprobe")
                .then().statusCode(401).header("WWW-Authenticate", containsString("invalid_token"));
        JWTClaimsSet expired = claims().expirationTime(Date.from(Instant.now().minusSeconds(600))).build();
        given().auth().oauth2(sign(AuthTestKeys.EXTERNAL, expired)).get("/fhir/Patient/_authprobe")
                .then().statusCode(401).body("issue[0].code", equalTo("expired"));
        JWTClaimsSet wrongAud = claims().audience("https://elsewhere.example.org/api").build();
        given().auth().oauth2(sign(AuthTestKeys.EXTERNAL, wrongAud)).get("/fhir/Patient/_authprobe")
                .then().statusCode(401).body("issue[0].diagnostics", containsString("audience"));
        JWTClaimsSet otherTenant = claims().claim("tenant", "acme").build();
        given().auth().oauth2(sign(AuthTestKeys.EXTERNAL, otherTenant)).get("/fhir/Patient/_authprobe")
                .then().statusCode(401).body("issue[0].diagnostics", containsString("tenant"));
        JWTClaimsSet noClient = claims().claim("azp", null).subject(null).build();
        given().auth().oauth2(sign(AuthTestKeys.EXTERNAL, noClient)).get("/fhir/Patient/_authprobe")
                .then().statusCode(401).body("issue[0].diagnostics", containsString("client"));
        // HS256 keyed with the issuer's public key
        try {
            var jws = new com.nimbusds.jose.JWSObject(new com.nimbusds.jose.JWSHeader.Builder(JWSAlgorithm.HS256).keyID("ext-1").build(),
                    new com.nimbusds.jose.Payload(claims().build().toJSONObject()));
            jws.sign(new com.nimbusds.jose.crypto.MACSigner(AuthTestKeys.EXTERNAL.toRSAPublicKey().getEncoded()));
            given().auth().oauth2(jws.serialize()).get("/fhir/Patient/_authprobe").then().statusCode(401);
        } catch (com.nimbusds.jose.JOSEException e) {
            throw new IllegalStateException(e);
        }
    }
}
