package io.sluice.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
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
import io.sluice.config.ApiConfig;
import io.sluice.config.AuthConfig;
import jakarta.enterprise.context.ApplicationScoped;

import java.net.URI;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Issues this server's access tokens and verifies bearer tokens (its own, and an external issuer's
 * when configured). Pure CPU work, safe on the event loop.
 */
@ApplicationScoped
public class AccessTokens {

    /** JWT type of issued access tokens (RFC 9068). */
    public static final JOSEObjectType AT_JWT = new JOSEObjectType("at+jwt");

    /** A token that passed every check. */
    public record Verified(String clientId, String tenant, ScopeSet scopes, Instant expiresAt, boolean external) {
    }

    /** A bearer token that is not acceptable; {@code expired} separates expiry from the rest. */
    public static final class InvalidToken extends Exception {
        private final boolean expired;

        public InvalidToken(String message, boolean expired) {
            super(message, null, false, false);
            this.expired = expired;
        }

        public boolean expired() {
            return expired;
        }
    }

    /** An issued token. */
    public record Issued(String token, long expiresInSeconds, String scope) {
    }

    private final ServerKeys keys;
    private final ExternalIssuer external;
    private final PublicUrls urls;
    private final Duration lifetime;
    private final Duration skew;
    private final String issuer;
    private final Set<JWSAlgorithm> externalAlgorithms;

    public AccessTokens(ServerKeys keys, ExternalIssuer external, PublicUrls urls, AuthConfig config, ApiConfig api) {
        this.keys = keys;
        this.external = external;
        this.urls = urls;
        this.lifetime = config.tokenLifetime();
        this.skew = config.clockSkew();
        this.issuer = config.issuer().filter(s -> !s.isBlank())
                .or(() -> api.publicBaseUrl().filter(s -> !s.isBlank()).map(PublicUrls::stripSlash))
                .orElse("sluice");
        this.externalAlgorithms = config.external().algorithms().stream().map(JWSAlgorithm::parse)
                .filter(a -> JWSAlgorithm.Family.RSA.contains(a) || JWSAlgorithm.Family.EC.contains(a))
                .collect(Collectors.toUnmodifiableSet());
    }

    /** {@code iss} of issued tokens. */
    public String issuer() {
        return issuer;
    }

    /**
     * Signs an access token for a client.
     *
     * @param audience the absolute FHIR base URL of the client's tenant
     */
    public Issued issue(RegisteredClient client, ScopeSet granted, String audience) {
        Instant now = Instant.now();
        Instant exp = now.plus(lifetime);
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(issuer)
                .subject(client.clientId())
                .audience(audience)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(exp))
                .jwtID(UUID.randomUUID().toString())
                .claim("client_id", client.clientId())
                .claim("scope", granted.toString())
                .claim("tenant", client.tenant())
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(keys.algorithm()).keyID(keys.keyId()).type(AT_JWT).build(), claims);
        try {
            jwt.sign(keys.signer());
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign access token: " + e.getMessage(), e);
        }
        return new Issued(jwt.serialize(), lifetime.toSeconds(), granted.toString());
    }

    /**
     * Verifies a bearer token for a request to a tenant's FHIR base.
     *
     * @param token         the compact JWT
     * @param tenant        tenant of the requested base
     * @param requestBase   absolute public base of this request ({@link PublicUrls#base})
     */
    public Verified verify(String token, String tenant, String requestBase) throws InvalidToken {
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token);
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new InvalidToken("the bearer token is not a signed JWT", false);
        }
        String iss = claims.getIssuer();
        if (issuer.equals(iss)) {
            return verifyOwn(jwt, claims, tenant, requestBase);
        }
        if (iss != null && external.issuer().filter(iss::equals).isPresent()) {
            return verifyExternal(jwt, claims, tenant, requestBase);
        }
        throw new InvalidToken("the token's issuer is not trusted", false);
    }

    private Verified verifyOwn(SignedJWT jwt, JWTClaimsSet claims, String tenant, String requestBase) throws InvalidToken {
        JWSHeader h = jwt.getHeader();
        String kid = h.getKeyID();
        JWSVerifier verifier = keys.verifier(kid);
        if (verifier == null || !h.getAlgorithm().equals(keys.algorithmFor(kid))) {
            throw new InvalidToken("the token is not signed by this server's key", false);
        }
        if (!AT_JWT.equals(h.getType())) {
            throw new InvalidToken("the token is not an access token (typ at+jwt)", false);
        }
        checkSignature(jwt, verifier);
        checkTimes(claims);
        checkAudience(claims.getAudience(), tenant, requestBase, List.of());
        String tokenTenant = stringClaim(claims, "tenant");
        if (!tenant.equals(tokenTenant)) {
            throw new InvalidToken("the token is for another tenant", false);
        }
        String sub = claims.getSubject();
        if (sub == null || sub.isBlank()) {
            throw new InvalidToken("the token has no subject", false);
        }
        return new Verified(sub, tokenTenant, ScopeSet.parse(stringClaim(claims, "scope")),
                claims.getExpirationTime().toInstant(), false);
    }

    private Verified verifyExternal(SignedJWT jwt, JWTClaimsSet claims, String tenant, String requestBase) throws InvalidToken {
        JWSHeader h = jwt.getHeader();
        JWSAlgorithm alg = h.getAlgorithm();
        if (!externalAlgorithms.contains(alg)) {
            throw new InvalidToken("the token's algorithm " + alg + " is not accepted", false);
        }
        JWK key = findExternalKey(h.getKeyID(), alg);
        if (key == null) {
            external.requestRefresh();
            throw new InvalidToken("the token is not signed by a key of its issuer", false);
        }
        JWSVerifier verifier;
        try {
            verifier = key instanceof RSAKey rsa ? new RSASSAVerifier(rsa) : new ECDSAVerifier((ECKey) key);
        } catch (JOSEException e) {
            throw new InvalidToken("the issuer's key cannot verify the token", false);
        }
        checkSignature(jwt, verifier);
        checkTimes(claims);
        var cfg = external.config();
        checkAudience(claims.getAudience(), tenant, requestBase, cfg.audience().orElse(List.of()));
        String tokenTenant = Optional.ofNullable(stringClaim(claims, cfg.tenantClaim())).orElse(cfg.defaultTenant());
        if (!tenant.equals(tokenTenant)) {
            throw new InvalidToken("the token is for another tenant", false);
        }
        String clientId = null;
        for (String c : cfg.clientIdClaims()) {
            clientId = stringClaim(claims, c);
            if (clientId != null && !clientId.isBlank()) {
                break;
            }
        }
        if (clientId == null || clientId.isBlank()) {
            throw new InvalidToken("the token names no client (" + String.join(", ", cfg.clientIdClaims()) + ")", false);
        }
        return new Verified(clientId, tokenTenant, ScopeSet.parse(externalScope(claims)),
                claims.getExpirationTime().toInstant(), true);
    }

    private JWK findExternalKey(String kid, JWSAlgorithm alg) {
        List<JWK> candidates = external.keys().getKeys().stream()
                .filter(k -> JWSAlgorithm.Family.RSA.contains(alg) ? k instanceof RSAKey : k instanceof ECKey)
                .filter(k -> k.getAlgorithm() == null || k.getAlgorithm().equals(alg))
                .toList();
        if (kid != null) {
            return candidates.stream().filter(k -> kid.equals(k.getKeyID())).findFirst().orElse(null);
        }
        return candidates.size() == 1 ? candidates.get(0) : null;
    }

    private static void checkSignature(SignedJWT jwt, JWSVerifier verifier) throws InvalidToken {
        try {
            if (!jwt.verify(verifier)) {
                throw new InvalidToken("the token's signature does not verify", false);
            }
        } catch (JOSEException e) {
            throw new InvalidToken("the token's signature cannot be verified", false);
        }
    }

    private void checkTimes(JWTClaimsSet claims) throws InvalidToken {
        Instant now = Instant.now();
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw new InvalidToken("the token has no expiry", false);
        }
        if (!now.isBefore(exp.toInstant().plus(skew))) {
            throw new InvalidToken("the token has expired", true);
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nbf.toInstant().isAfter(now.plus(skew))) {
            throw new InvalidToken("the token is not valid yet", false);
        }
    }

    /**
     * Audience rule: with configured audiences, one of them; else the tenant's FHIR base — the exact URL
     * when a public base URL is configured, otherwise compared by path (hosts differ behind proxies).
     */
    private void checkAudience(Collection<String> aud, String tenant, String requestBase, List<String> configured)
            throws InvalidToken {
        if (aud == null || aud.isEmpty()) {
            throw new InvalidToken("the token has no audience", false);
        }
        if (!configured.isEmpty()) {
            if (aud.stream().noneMatch(configured::contains)) {
                throw new InvalidToken("the token's audience is not this server", false);
            }
            return;
        }
        String path = PublicUrls.fhirBasePath(tenant);
        String expected = requestBase + path;
        boolean ok;
        if (urls.configured()) {
            ok = aud.stream().map(PublicUrls::stripSlash).anyMatch(expected::equals);
        } else {
            String expectedPath = pathOf(expected);
            ok = aud.stream().map(AccessTokens::pathOf).anyMatch(expectedPath::equals);
        }
        if (!ok) {
            throw new InvalidToken("the token's audience is not this FHIR base (" + path + ")", false);
        }
    }

    private static String pathOf(String url) {
        try {
            URI u = URI.create(url);
            if (u.getScheme() == null || u.getRawPath() == null) {
                return "";
            }
            return PublicUrls.stripSlash(u.getRawPath());
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    private static String stringClaim(JWTClaimsSet claims, String name) throws InvalidToken {
        Object v = claims.getClaim(name);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new InvalidToken("the token's " + name + " claim is not a string", false);
        }
        return s;
    }

    private static String externalScope(JWTClaimsSet claims) throws InvalidToken {
        Object scope = claims.getClaim("scope");
        if (scope == null) {
            scope = claims.getClaim("scp");
        }
        if (scope == null) {
            return "";
        }
        if (scope instanceof String s) {
            return s;
        }
        if (scope instanceof List<?> l) {
            return l.stream().map(String::valueOf).collect(Collectors.joining(" "));
        }
        throw new InvalidToken("the token's scope claim is neither a string nor a list", false);
    }
}
