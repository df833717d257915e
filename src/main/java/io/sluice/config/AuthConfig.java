package io.sluice.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** SMART Backend Services authorization settings (prefix {@code sluice.auth}); see docs/auth.md. */
@ConfigMapping(prefix = "sluice.auth")
public interface AuthConfig {

    /** Whether FHIR endpoints need a bearer token (env SLUICE_AUTH_ENABLED); off logs a warning every hour. */
    @WithDefault("true")
    boolean enabled();

    /** The {@code iss} of issued access tokens; defaults to {@code sluice.api.public-base-url}, else {@code sluice}. */
    Optional<String> issuer();

    /** Lifetime of issued access tokens. */
    @WithDefault("PT5M")
    Duration tokenLifetime();

    /** Clock skew tolerated on exp/nbf/iat of assertions and tokens. */
    @WithDefault("PT30S")
    Duration clockSkew();

    /** Longest allowed distance between now and a client assertion's exp (SMART: 5 minutes). */
    @WithDefault("PT5M")
    Duration assertionMaxLifetime();

    /** Signature algorithms accepted on client assertions. */
    @WithDefault("RS384,ES384")
    List<String> assertionAlgorithms();

    /**
     * JSON file with a private JWK or a JWK Set (first private key signs, all keys verify) for access
     * tokens. Unset: a P-256 key (ES256) is generated at startup, which only works with one replica.
     */
    Optional<String> signingKeyFile();

    /** JSON file of registered clients: [{client_id, jwks:{keys:[...]}, scopes, tenant}]. */
    Optional<String> clientsFile();

    /** Bearer credential of the admin endpoint /admin/clients; the endpoint answers 404 when unset. */
    Optional<String> adminToken();

    /** Interval of the "running without authorization" warning while auth is off. */
    @WithDefault("PT1H")
    Duration unauthenticatedWarningInterval();

    /** Token endpoint rate limits. */
    RateLimit rateLimit();

    /** An external OAuth/OIDC issuer whose access tokens are accepted as well. */
    External external();

    /** In-memory token buckets of the token endpoint (per replica). */
    interface RateLimit {
        /** Requests one client id may burst. */
        @WithDefault("20")
        int clientBurst();

        /** Sustained requests per minute for one client id. */
        @WithDefault("30")
        int clientPerMinute();

        /** Requests one remote address may burst. */
        @WithDefault("100")
        int ipBurst();

        /** Sustained requests per minute for one remote address. */
        @WithDefault("120")
        int ipPerMinute();
    }

    /** Trust for tokens of an external authorization server. */
    interface External {
        /** Expected {@code iss} of external tokens; unset disables external tokens. */
        Optional<String> issuer();

        /** JWK Set file with the issuer's public keys. */
        Optional<String> jwksFile();

        /** JWK Set URL of the issuer (fetched at startup and refreshed in the background, never on a request thread). */
        Optional<String> jwksUrl();

        /** How often the jwks-url is fetched again. */
        @WithDefault("PT15M")
        Duration jwksRefresh();

        /** Accepted {@code aud} values; unset: the FHIR base URL of the tenant (path compared). */
        Optional<List<String>> audience();

        /** Claims tried in order for the client id (the job owner). */
        @WithDefault("client_id,azp,sub")
        List<String> clientIdClaims();

        /** Claim holding the tenant. */
        @WithDefault("tenant")
        String tenantClaim();

        /** Tenant of tokens without the tenant claim. */
        @WithDefault("default")
        String defaultTenant();

        /** Accepted signature algorithms of external tokens. */
        @WithDefault("RS256,RS384,RS512,ES256,ES384,ES512,PS256,PS384,PS512")
        List<String> algorithms();
    }
}
