package io.sluice.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.quarkus.scheduler.Scheduled;
import io.sluice.config.AuthConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The SMART Backend Services token exchange: checks a client_credentials request with a
 * private_key_jwt client assertion and issues an access token.
 */
@ApplicationScoped
public class TokenService {

    private static final Logger LOG = Logger.getLogger(TokenService.class);

    public static final String GRANT_TYPE = "client_credentials";
    public static final String ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    private final ClientRegistry clients;
    private final AuthStore store;
    private final AccessTokens tokens;
    private final Set<JWSAlgorithm> assertionAlgorithms;
    private final Duration skew;
    private final Duration maxLifetime;
    private final TokenBucketLimiter perClient;
    private final TokenBucketLimiter perAddress;

    public TokenService(ClientRegistry clients, AuthStore store, AccessTokens tokens, AuthConfig config) {
        this.clients = clients;
        this.store = store;
        this.tokens = tokens;
        this.assertionAlgorithms = config.assertionAlgorithms().stream().map(JWSAlgorithm::parse)
                .filter(a -> JWSAlgorithm.Family.RSA.contains(a) || JWSAlgorithm.Family.EC.contains(a))
                .collect(Collectors.toUnmodifiableSet());
        this.skew = config.clockSkew();
        this.maxLifetime = config.assertionMaxLifetime();
        var rl = config.rateLimit();
        this.perClient = new TokenBucketLimiter(rl.clientBurst(), rl.clientPerMinute(), System::nanoTime);
        this.perAddress = new TokenBucketLimiter(rl.ipBurst(), rl.ipPerMinute(), System::nanoTime);
    }

    /** Algorithms accepted on client assertions, for the SMART configuration. */
    public List<String> assertionAlgorithmNames() {
        return assertionAlgorithms.stream().map(JWSAlgorithm::getName).sorted().toList();
    }

    /**
     * Handles one token request. Fails with {@link OAuthException}.
     *
     * @param form          the form parameters (each present at most once)
     * @param tokenUrl      absolute URL of the token endpoint as this request reached it (the assertion's aud)
     * @param publicBase    absolute public base, to build the token's audience (the tenant's FHIR base)
     * @param remoteAddress the caller's address, for rate limiting
     */
    public Uni<AccessTokens.Issued> exchange(Map<String, String> form, String tokenUrl, String publicBase, String remoteAddress) {
        long wait = perAddress.acquire(remoteAddress == null ? "?" : remoteAddress);
        if (wait > 0) {
            return Uni.createFrom().failure(tooMany(wait));
        }
        String grantType = form.get("grant_type");
        if (grantType == null || grantType.isBlank()) {
            return fail(OAuthException.invalidRequest("grant_type is required"));
        }
        if (!GRANT_TYPE.equals(grantType)) {
            return fail(OAuthException.unsupportedGrantType("only grant_type=client_credentials is supported"));
        }
        String assertionType = form.get("client_assertion_type");
        if (!ASSERTION_TYPE.equals(assertionType)) {
            return fail(OAuthException.invalidRequest("client_assertion_type must be " + ASSERTION_TYPE));
        }
        String assertion = form.get("client_assertion");
        if (assertion == null || assertion.isBlank()) {
            return fail(OAuthException.invalidRequest("client_assertion is required"));
        }
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(assertion.trim());
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            return fail(OAuthException.invalidClient("client_assertion is not a signed JWT"));
        }
        String clientId = claims.getIssuer();
        if (clientId == null || clientId.isBlank() || !clientId.equals(claims.getSubject())) {
            return fail(OAuthException.invalidClient("the client assertion's iss and sub must both be the client_id"));
        }
        String formClientId = form.get("client_id");
        if (formClientId != null && !formClientId.equals(clientId)) {
            return fail(OAuthException.invalidClient("client_id does not match the client assertion's iss"));
        }
        wait = perClient.acquire(clientId);
        if (wait > 0) {
            return fail(tooMany(wait));
        }
        JWSHeader header = jwt.getHeader();
        if (!assertionAlgorithms.contains(header.getAlgorithm())) {
            return fail(OAuthException.invalidClient("client assertions must be signed with one of " + assertionAlgorithmNames()));
        }
        if (header.getKeyID() == null || header.getKeyID().isBlank()) {
            return fail(OAuthException.invalidClient("the client assertion header needs a kid"));
        }
        Instant now = Instant.now();
        try {
            checkClaims(claims, tokenUrl, now);
        } catch (OAuthException e) {
            return fail(e);
        }
        return clients.find(clientId).onItem().transformToUni(found -> {
            if (found.isEmpty()) {
                return fail(OAuthException.invalidClient("unknown client"));
            }
            RegisteredClient client = found.get();
            try {
                checkSignature(jwt, client);
            } catch (OAuthException e) {
                return fail(e);
            }
            Instant exp = claims.getExpirationTime().toInstant().plus(skew);
            return store.recordAssertion(clientId, claims.getJWTID(), exp).onItem().transformToUni(fresh -> {
                if (!fresh) {
                    return fail(OAuthException.invalidClient("the client assertion's jti was already used"));
                }
                String requested = form.get("scope");
                if (requested == null || requested.isBlank()) {
                    return fail(OAuthException.invalidScope("scope is required, e.g. system/*.read"));
                }
                ScopeSet granted = ScopeSet.grant(requested, client.scopes());
                if (granted.isEmpty()) {
                    return fail(OAuthException.invalidScope("none of the requested scopes is allowed for this client (allowed: "
                            + client.scopes() + ")"));
                }
                String audience = publicBase + PublicUrls.fhirBasePath(client.tenant());
                LOG.debugf("Issuing token to %s for %s with scope %s", clientId, audience, granted);
                return Uni.createFrom().item(tokens.issue(client, granted, audience));
            });
        });
    }

    private void checkClaims(JWTClaimsSet claims, String tokenUrl, Instant now) {
        List<String> aud = claims.getAudience();
        if (aud == null || aud.stream().map(PublicUrls::stripSlash).noneMatch(PublicUrls.stripSlash(tokenUrl)::equals)) {
            throw OAuthException.invalidClient("the client assertion's aud must be the token endpoint URL " + tokenUrl);
        }
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw OAuthException.invalidClient("the client assertion needs exp");
        }
        if (!now.isBefore(exp.toInstant().plus(skew))) {
            throw OAuthException.invalidClient("the client assertion has expired");
        }
        if (exp.toInstant().isAfter(now.plus(maxLifetime).plus(skew))) {
            throw OAuthException.invalidClient("the client assertion's exp is more than " + maxLifetime.toMinutes() + " minutes ahead");
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nbf.toInstant().isAfter(now.plus(skew))) {
            throw OAuthException.invalidClient("the client assertion is not valid yet (nbf)");
        }
        Date iat = claims.getIssueTime();
        if (iat != null && iat.toInstant().isAfter(now.plus(skew))) {
            throw OAuthException.invalidClient("the client assertion was issued in the future (iat)");
        }
        String jti = claims.getJWTID();
        if (jti == null || jti.isBlank() || jti.length() > 512) {
            throw OAuthException.invalidClient("the client assertion needs a jti of at most 512 characters");
        }
    }

    private static void checkSignature(SignedJWT jwt, RegisteredClient client) {
        String kid = jwt.getHeader().getKeyID();
        JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
        JWK key = client.jwks().getKeyByKeyId(kid);
        if (key == null) {
            throw OAuthException.invalidClient("no key with kid " + kid + " is registered for this client");
        }
        if (key.getAlgorithm() != null && !key.getAlgorithm().equals(alg)) {
            throw OAuthException.invalidClient("key " + kid + " is registered for " + key.getAlgorithm() + ", not " + alg);
        }
        JWSVerifier verifier;
        try {
            if (JWSAlgorithm.Family.RSA.contains(alg) && key instanceof RSAKey rsa) {
                verifier = new RSASSAVerifier(rsa);
            } else if (JWSAlgorithm.Family.EC.contains(alg) && key instanceof ECKey ec) {
                verifier = new ECDSAVerifier(ec);
            } else {
                throw OAuthException.invalidClient("key " + kid + " cannot verify " + alg + " signatures");
            }
            if (!verifier.supportedJWSAlgorithms().contains(alg) || !jwt.verify(verifier)) {
                throw OAuthException.invalidClient("the client assertion's signature does not verify with key " + kid);
            }
        } catch (JOSEException e) {
            throw OAuthException.invalidClient("the client assertion's signature cannot be verified with key " + kid);
        }
    }

    private static OAuthException tooMany(long seconds) {
        return new OAuthException(429, "temporarily_unavailable", "too many token requests; retry in " + seconds + " s", seconds);
    }

    private static <T> Uni<T> fail(OAuthException e) {
        return Uni.createFrom().failure(e);
    }

    /** Deletes replay rows of expired assertions (every replica may run it; it is idempotent). */
    @Scheduled(every = "PT5M", delayed = "PT1M", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> purgeReplayTable() {
        return store.purgeExpiredAssertions()
                .invoke(n -> LOG.debugf("Purged %d expired client assertion ids", n))
                .onFailure().invoke(e -> LOG.warnf("Purging expired client assertion ids failed: %s", e.getMessage()))
                .onFailure().recoverWithNull()
                .replaceWithVoid();
    }
}
