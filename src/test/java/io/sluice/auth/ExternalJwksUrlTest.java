package io.sluice.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

/** The external issuer's keys fetched from a jwks-url (a local HTTP server started by the profile). */
@QuarkusTest
@TestProfile(ExternalJwksUrlTest.Profile.class)
@QuarkusTestResource(PostgresTestResource.class)
class ExternalJwksUrlTest {

    static final String ISSUER = "https://login.example.org";

    public static class Profile implements QuarkusTestProfile {
        private static HttpServer server;

        static synchronized String jwksUrl() throws IOException {
            if (server == null) {
                server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
                byte[] body = AuthTestKeys.publicJwks(AuthTestKeys.EXTERNAL).getBytes(StandardCharsets.UTF_8);
                server.createContext("/jwks", ex -> {
                    ex.getResponseHeaders().add("Content-Type", "application/json");
                    ex.sendResponseHeaders(200, body.length);
                    ex.getResponseBody().write(body);
                    ex.close();
                });
                server.start();
            }
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/jwks";
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                return Map.of("sluice.auth.enabled", "true",
                        "sluice.auth.external.issuer", ISSUER,
                        "sluice.auth.external.jwks-url", jwksUrl(),
                        "sluice.auth.external.audience", "sluice-api");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static JWTClaimsSet.Builder claims() {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(ISSUER).subject("svc").audience("sluice-api")
                .claim("client_id", "url-client").claim("scope", "system/*.rs")
                .expirationTime(Date.from(now.plusSeconds(120)));
    }

    @Test
    void keysFromTheUrlVerifyTokensAndConfiguredAudienceIsEnforced() {
        given().auth().oauth2(AuthClient.sign(AuthTestKeys.EXTERNAL, JWSAlgorithm.RS256, claims().build()))
                .get("/fhir/Patient/_authprobe").then().statusCode(200).body("owner", equalTo("url-client"));
        given().auth().oauth2(AuthClient.sign(AuthTestKeys.EXTERNAL_OTHER, JWSAlgorithm.RS256, claims().build()))
                .get("/fhir/Patient/_authprobe").then().statusCode(401);
        // the FHIR base is not an accepted audience once audiences are configured
        given().auth().oauth2(AuthClient.sign(AuthTestKeys.EXTERNAL, JWSAlgorithm.RS256,
                        claims().audience(AuthClient.base() + "/fhir").build()))
                .get("/fhir/Patient/_authprobe").then().statusCode(401);
        // no clients file and no signing key configured: the built-in server still works with a generated key
        given().get("/auth/jwks").then().statusCode(200).body("keys[0].crv", equalTo("P-256"));
    }
}
