package io.sluice.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** REST API settings (prefix {@code sluice.api}). */
@ConfigMapping(prefix = "sluice.api")
public interface ApiConfig {

    /**
     * Public base URL of the server as clients reach it (e.g. {@code https://fhir.example.org/sluice}),
     * used for every absolute URL Sluice hands out; when absent, the request URL and the
     * {@code X-Forwarded-*} headers decide.
     */
    Optional<String> publicBaseUrl();

    /** Whether {@code X-Forwarded-Proto/Host/Port/Prefix} headers shape absolute URLs (when no public base URL is set). */
    @WithDefault("true")
    boolean trustForwardedHeaders();

    /** {@code Retry-After} sent with a 429 when a tenant or client has too many active exports. */
    @WithDefault("PT10S")
    Duration kickoffRetryAfter();

    /** {@code Retry-After} sent on status polls of a job still running. */
    @WithDefault("PT1S")
    Duration statusRetryAfter();
}
