package io.sluice.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.restassured.RestAssured;
import io.restassured.response.Response;

import java.time.Instant;
import java.util.Date;
import java.util.UUID;

import static io.restassured.RestAssured.given;

/** Test helper: builds client assertions and calls the token endpoint like a SMART backend service. */
final class AuthClient {

    static final String ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    private AuthClient() {
    }

    static String base() {
        return "http://localhost:" + RestAssured.port;
    }

    static String tokenUrl() {
        return base() + "/auth/token";
    }

    static JWTClaimsSet.Builder assertionClaims(String clientId) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(tokenUrl())
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(240)))
                .jwtID(UUID.randomUUID().toString());
    }

    static String sign(JWK key, JWSAlgorithm alg, JWTClaimsSet claims) {
        return sign(key, alg, key.getKeyID(), null, claims);
    }

    static String sign(JWK key, JWSAlgorithm alg, String kid, JOSEObjectType typ, JWTClaimsSet claims) {
        try {
            JWSSigner signer = key instanceof RSAKey rsa ? new RSASSASigner(rsa) : new ECDSASigner((ECKey) key);
            JWSHeader.Builder h = new JWSHeader.Builder(alg);
            if (kid != null) {
                h.keyID(kid);
            }
            if (typ != null) {
                h.type(typ);
            }
            SignedJWT jwt = new SignedJWT(h.build(), claims);
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An RS384 assertion of the client, signed with the client RSA key. */
    static String rsaAssertion(String clientId) {
        return sign(AuthTestKeys.CLIENT_RSA, JWSAlgorithm.RS384, assertionClaims(clientId).build());
    }

    static Response requestToken(String assertion, String scope) {
        var spec = given().contentType("application/x-www-form-urlencoded")
                .formParam("grant_type", "client_credentials")
                .formParam("client_assertion_type", ASSERTION_TYPE)
                .formParam("client_assertion", assertion);
        if (scope != null) {
            spec = spec.formParam("scope", scope);
        }
        return spec.post("/auth/token");
    }

    /** A fresh access token for a client registered with the client RSA key. */
    static String token(String clientId, String scope) {
        Response r = requestToken(rsaAssertion(clientId), scope);
        r.then().statusCode(200);
        return r.jsonPath().getString("access_token");
    }
}
