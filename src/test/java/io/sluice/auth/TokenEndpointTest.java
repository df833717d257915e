package io.sluice.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;

import static io.restassured.RestAssured.given;
import static io.sluice.auth.AuthClient.assertionClaims;
import static io.sluice.auth.AuthClient.requestToken;
import static io.sluice.auth.AuthClient.rsaAssertion;
import static io.sluice.auth.AuthClient.sign;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
@TestProfile(AuthTestProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class TokenEndpointTest {

    @Test
    void smartConfigurationAtBothBases() {
        for (String base : new String[]{"/fhir", "/tenants/acme/fhir"}) {
            given().get(base + "/.well-known/smart-configuration").then().statusCode(200)
                    .body("token_endpoint", equalTo(AuthClient.tokenUrl()))
                    .body("grant_types_supported", hasItem("client_credentials"))
                    .body("token_endpoint_auth_methods_supported", hasItem("private_key_jwt"))
                    .body("token_endpoint_auth_signing_alg_values_supported", hasItems("RS384", "ES384"))
                    .body("scopes_supported", hasItems("system/*.read", "system/*.rs"))
                    .body("capabilities", hasItems("client-confidential-asymmetric", "permission-v1", "permission-v2"));
        }
        given().header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "fhir.example.org")
                .get("/fhir/.well-known/smart-configuration").then().statusCode(200)
                .body("token_endpoint", equalTo("https://fhir.example.org/auth/token"));
        given().header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "fhir.example.org")
                .header("X-Forwarded-Port", "8443").header("X-Forwarded-Prefix", "/sluice/")
                .get("/fhir/.well-known/smart-configuration").then().statusCode(200)
                .body("token_endpoint", equalTo("https://fhir.example.org:8443/sluice/auth/token"));
        given().get("/tenants/Bad_Tenant/fhir/.well-known/smart-configuration").then().statusCode(404)
                .body("resourceType", equalTo("OperationOutcome"));
    }

    @Test
    void rsaAssertionGetsAToken() throws Exception {
        Response r = requestToken(rsaAssertion("rsa-client"), "system/*.read");
        r.then().statusCode(200)
                .header("Cache-Control", "no-store")
                .body("token_type", equalTo("bearer"))
                .body("expires_in", equalTo(300))
                .body("scope", equalTo("system/*.read"))
                .body("access_token", notNullValue());
        SignedJWT at = SignedJWT.parse(r.jsonPath().getString("access_token"));
        JWTClaimsSet c = at.getJWTClaimsSet();
        assertEquals("rsa-client", c.getSubject());
        assertEquals(AuthClient.base() + "/fhir", c.getAudience().get(0));
        assertEquals("default", c.getStringClaim("tenant"));
        assertEquals("system/*.read", c.getStringClaim("scope"));
        assertEquals("server-1", at.getHeader().getKeyID());
        assertTrue(c.getExpirationTime().toInstant().isBefore(Instant.now().plusSeconds(301)));
        assertTrue(c.getJWTID() != null && c.getIssueTime() != null && c.getIssuer() != null);

        given().auth().oauth2(r.jsonPath().getString("access_token")).get("/fhir/Patient/_authprobe")
                .then().statusCode(200).body("owner", equalTo("rsa-client")).body("tenant", equalTo("default"));
    }

    @Test
    void ecAssertionGetsAToken() {
        String assertion = sign(AuthTestKeys.CLIENT_EC, JWSAlgorithm.ES384, assertionClaims("ec-client").build());
        Response r = requestToken(assertion, "system/Patient.rs system/Observation.rs");
        r.then().statusCode(200).body("scope", equalTo("system/Patient.rs system/Observation.rs"));
        given().auth().oauth2(r.jsonPath().getString("access_token")).get("/fhir/Patient/_authprobe")
                .then().statusCode(200).body("owner", equalTo("ec-client"))
                .body("readable", hasItems("Observation", "Patient"));
    }

    @Test
    void replayedJtiIsRefused() {
        String assertion = rsaAssertion("rsa-client");
        requestToken(assertion, "system/*.read").then().statusCode(200);
        requestToken(assertion, "system/*.read").then().statusCode(401)
                .body("error", equalTo("invalid_client")).body("error_description", containsString("jti"));
    }

    @Test
    void concurrentUsesOfOneAssertionGetOneToken() throws Exception {
        String assertion = rsaAssertion("rsa-client");
        int n = 8;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(n);
        try {
            var start = new java.util.concurrent.CountDownLatch(1);
            java.util.List<java.util.concurrent.Future<Integer>> results = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return requestToken(assertion, "system/*.read").statusCode();
                }));
            }
            start.countDown();
            int ok = 0;
            for (var f : results) {
                int status = f.get();
                if (status == 200) {
                    ok++;
                } else {
                    assertEquals(401, status);
                }
            }
            assertEquals(1, ok, "exactly one of the concurrent requests gets a token");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void tokenObtainedThroughAProxyIsBoundToThatBase() {
        Response r = given().header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "fhir.example.org")
                .contentType("application/x-www-form-urlencoded")
                .formParam("grant_type", "client_credentials")
                .formParam("client_assertion_type", AuthClient.ASSERTION_TYPE)
                .formParam("client_assertion", sign(AuthTestKeys.CLIENT_RSA, JWSAlgorithm.RS384,
                        assertionClaims("rsa-client").audience("https://fhir.example.org/auth/token").build()))
                .formParam("scope", "system/*.read")
                .post("/auth/token");
        r.then().statusCode(200);
        String token = r.jsonPath().getString("access_token");
        given().header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "fhir.example.org")
                .auth().oauth2(token).get("/fhir/Patient/_authprobe").then().statusCode(200);
        // the same assertion audience without the proxy headers is another token URL
        requestToken(sign(AuthTestKeys.CLIENT_RSA, JWSAlgorithm.RS384,
                assertionClaims("rsa-client").audience("https://fhir.example.org/auth/token").build()), "system/*.read")
                .then().statusCode(401);
    }

    @Test
    void expiryIsChecked() {
        Instant now = Instant.now();
        String expired = sign(AuthTestKeys.CLIENT_RSA, JWSAlgorithm.RS384,
                assertionClaims("rsa-client").expirationTime(Date.from(now.minusSeconds(120))).build());
        requestToken(expired, "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"))
                .body("error_description", containsString("expired"));
        String farFuture = sign(AuthTestKeys.CLIENT_RSA, JWSAlgorithm.RS384,
                assertionClaims("rsa-client").expirationTime(Date.from(now.plusSeconds(600))).build());
        requestToken(farFuture, "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"))
                .body("error_description", containsString("ahead"));
        String noExp = sign(AuthTestKeys.CLIENT_RSA, JWSAlgorithm.RS384,
                assertionClaims("rsa-client").expirationTime(null).build());
        requestToken(noExp, "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"));
    }

    @Test
    void audienceIssAndSubAreChecked() {
        String wrongAud = sign(AuthTestKeys.CLIENT_RSA, JWSAlgorithm.RS384,
                assertionClaims("rsa-client").audience("https://other.example.org/token").build());
        requestToken(wrongAud, "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"))
                .body("error_description", containsString("aud"));
        String subDiffers = sign(AuthTestKeys.CLIENT_RSA, JWSAlgorithm.RS384,
                assertionClaims("rsa-client").subject("ec-client").build());
        requestToken(subDiffers, "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"));
    }

    @Test
    void algNoneIsRefused() {
        JWTClaimsSet claims = assertionClaims("rsa-client").build();
        String header = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"client-rsa\"}").toString();
        String unsigned = header + "." + Base64URL.encode(claims.toString()) + ".";
        requestToken(unsigned, "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"));
        // and the same with the original signature left in place
        String signed = rsaAssertion("rsa-client");
        String noneWithSig = header + signed.substring(signed.indexOf('.'));
        requestToken(noneWithSig, "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"));
    }

    @Test
    void hs256WithThePublicKeyIsRefused() throws Exception {
        byte[] publicKeyBytes = AuthTestKeys.CLIENT_RSA.toRSAPublicKey().getEncoded();
        JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("client-rsa").build(),
                new Payload(assertionClaims("rsa-client").build().toJSONObject()));
        jws.sign(new MACSigner(publicKeyBytes));
        requestToken(jws.serialize(), "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"));
        // the JWK JSON of the public key as HMAC secret, too
        JWSObject jws2 = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("client-rsa").build(),
                new Payload(assertionClaims("rsa-client").build().toJSONObject()));
        jws2.sign(new MACSigner(AuthTestKeys.CLIENT_RSA.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8)));
        requestToken(jws2.serialize(), "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"));
    }

    @Test
    void unknownKidClientAndWrongKeyAreRefused() {
        String unknownKid = sign(AuthTestKeys.CLIENT_RSA, JWSAlgorithm.RS384, "no-such-kid", null,
                assertionClaims("rsa-client").build());
        requestToken(unknownKid, "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"))
                .body("error_description", containsString("kid"));
        requestToken(rsaAssertion("nobody"), "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"));
        String attacker = sign(AuthTestKeys.ATTACKER_RSA, JWSAlgorithm.RS384, assertionClaims("rsa-client").build());
        requestToken(attacker, "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"))
                .body("error_description", containsString("signature"));
        String rs256 = sign(AuthTestKeys.CLIENT_RSA, JWSAlgorithm.RS256, assertionClaims("rsa-client").build());
        requestToken(rs256, "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"));
        requestToken("not-a-jwt", "system/*.read").then().statusCode(401).body("error", equalTo("invalid_client"));
    }

    @Test
    void malformedRequestsAre400() {
        given().contentType("application/x-www-form-urlencoded")
                .formParam("grant_type", "password")
                .formParam("client_assertion_type", AuthClient.ASSERTION_TYPE)
                .formParam("client_assertion", rsaAssertion("rsa-client"))
                .post("/auth/token").then().statusCode(400).body("error", equalTo("unsupported_grant_type"));
        given().contentType("application/x-www-form-urlencoded")
                .formParam("client_assertion_type", AuthClient.ASSERTION_TYPE)
                .formParam("client_assertion", rsaAssertion("rsa-client"))
                .post("/auth/token").then().statusCode(400).body("error", equalTo("invalid_request"));
        given().contentType("application/x-www-form-urlencoded")
                .formParam("grant_type", "client_credentials")
                .formParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
                .formParam("client_assertion", rsaAssertion("rsa-client"))
                .post("/auth/token").then().statusCode(400).body("error", equalTo("invalid_request"));
        given().contentType("application/x-www-form-urlencoded")
                .formParam("grant_type", "client_credentials")
                .formParam("client_assertion_type", AuthClient.ASSERTION_TYPE)
                .post("/auth/token").then().statusCode(400).body("error", equalTo("invalid_request"));
        given().contentType("application/json").body("{\"grant_type\":\"client_credentials\"}")
                .post("/auth/token").then().statusCode(400).body("error", equalTo("invalid_request"));
        given().contentType("application/x-www-form-urlencoded")
                .body("grant_type=client_credentials&grant_type=client_credentials")
                .post("/auth/token").then().statusCode(400).body("error", equalTo("invalid_request"));
    }

    @Test
    void scopesAreNarrowedOrRefused() {
        // nothing of the request is allowed
        requestToken(rsaAssertion("obs-client"), "system/Patient.read").then().statusCode(400)
                .body("error", equalTo("invalid_scope"));
        requestToken(rsaAssertion("obs-client"), "launch openid").then().statusCode(400)
                .body("error", equalTo("invalid_scope"));
        requestToken(rsaAssertion("obs-client"), null).then().statusCode(400)
                .body("error", equalTo("invalid_scope"));
        // partly allowed: the intersection is granted
        requestToken(rsaAssertion("obs-client"), "system/*.read").then().statusCode(200)
                .body("scope", equalTo("system/Observation.read"));
        requestToken(rsaAssertion("obs-client"), "system/*.cruds system/Patient.rs").then().statusCode(200)
                .body("scope", equalTo("system/Observation.rs"));
        // allowed system/*.read + system/Patient.cud; asks write on everything
        requestToken(rsaAssertion("rsa-client"), "system/*.write").then().statusCode(200)
                .body("scope", equalTo("system/Patient.write"));
    }

    @Test
    void tokenEndpointIsRateLimitedPerClient() {
        String bogus = sign(AuthTestKeys.ATTACKER_RSA, JWSAlgorithm.RS384, assertionClaims("rl-client").build());
        Response limited = null;
        for (int i = 0; i < 200 && limited == null; i++) {
            Response r = requestToken(bogus, "system/*.read");
            if (r.statusCode() == 429) {
                limited = r;
            } else {
                assertEquals(401, r.statusCode());
            }
        }
        assertTrue(limited != null, "no 429 after 200 rapid requests");
        int retryAfter = Integer.parseInt(limited.header("Retry-After"));
        assertTrue(retryAfter >= 1, "Retry-After " + retryAfter);
        assertEquals("temporarily_unavailable", limited.jsonPath().getString("error"));
        // other clients are not affected
        requestToken(rsaAssertion("rsa-client"), "system/*.read").then().statusCode(200);
    }

    @Test
    void oversizedBodiesAreRefusedUnread() {
        given().contentType("application/x-www-form-urlencoded").body("grant_type=" + "x".repeat(70_000))
                .post("/auth/token").then().statusCode(413).body("error", equalTo("invalid_request"));
    }

    @Test
    void serverPublicKeysArePublished() {
        given().get("/auth/jwks").then().statusCode(200)
                .body("keys[0].kid", equalTo("server-1"))
                .body("keys[0].d", org.hamcrest.Matchers.nullValue());
    }
}
