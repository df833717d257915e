package io.sluice.auth;

import io.sluice.config.ApiConfig;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Absolute URLs of this server as clients see them: {@code sluice.api.public-base-url} when set (the
 * one public-URL setting, shared with the export API),
 * else scheme and host from X-Forwarded-Proto / X-Forwarded-Host (/ X-Forwarded-Port / X-Forwarded-Prefix,
 * unless {@code sluice.api.trust-forwarded-headers=false}), else the request's own scheme and Host header.
 */
@ApplicationScoped
public class PublicUrls {

    /** Tenant served at {@code /fhir}. */
    public static final String DEFAULT_TENANT = "default";

    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.\\-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

    private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9._~\\-]+)+/?");

    private final String configuredBase;
    private final boolean trustForwarded;

    public PublicUrls(ApiConfig config) {
        this.configuredBase = config.publicBaseUrl().filter(s -> !s.isBlank()).map(PublicUrls::stripSlash).orElse(null);
        this.trustForwarded = config.trustForwardedHeaders();
    }

    /** Whether a public base URL is configured (then request headers never change URLs). */
    public boolean configured() {
        return configuredBase != null;
    }

    /** Scheme, host and (configured) path prefix, without a trailing slash, e.g. {@code https://h:8443}. */
    public String base(HttpServerRequest request) {
        if (configuredBase != null) {
            return configuredBase;
        }
        String host = request.getHeader("Host");
        if (host == null || !HOST.matcher(host).matches()) {
            var a = request.localAddress();
            host = a == null ? "localhost" : a.hostAddress() + ":" + a.port();
        }
        return base(request::getHeader, request.scheme(), host);
    }

    /**
     * {@link #base(HttpServerRequest)} for a request known by its headers, its own scheme and its own
     * {@code host[:port]} (the one algorithm behind every absolute URL this server hands out: token
     * endpoint and audience, status and manifest URLs, CapabilityStatement).
     */
    public String base(Function<String, String> header, String ownScheme, String ownHost) {
        if (configuredBase != null) {
            return configuredBase;
        }
        String scheme = trustForwarded ? first(header.apply("X-Forwarded-Proto")) : null;
        if (!"http".equalsIgnoreCase(scheme) && !"https".equalsIgnoreCase(scheme)) {
            scheme = ownScheme == null ? "http" : ownScheme;
        }
        scheme = scheme.toLowerCase(java.util.Locale.ROOT);
        String host = trustForwarded ? first(header.apply("X-Forwarded-Host")) : null;
        if (host != null && HOST.matcher(host).matches()) {
            String port = first(header.apply("X-Forwarded-Port"));
            if (port != null && PORT.matcher(port).matches() && !host.matches(".*:[0-9]+$")
                    && !("https".equals(scheme) && "443".equals(port)) && !("http".equals(scheme) && "80".equals(port))) {
                host = host + ":" + port;
            }
        } else {
            host = ownHost;
        }
        String prefix = trustForwarded ? first(header.apply("X-Forwarded-Prefix")) : null;
        prefix = prefix != null && PREFIX.matcher(prefix).matches() ? stripSlash(prefix) : "";
        return scheme + "://" + host + prefix;
    }

    /** URL of the token endpoint. */
    public String tokenEndpoint(HttpServerRequest request) {
        return base(request) + "/auth/token";
    }

    /** Path of a tenant's FHIR base: {@code /fhir} for the default tenant, else {@code /tenants/{t}/fhir}. */
    public static String fhirBasePath(String tenant) {
        return DEFAULT_TENANT.equals(tenant) ? "/fhir" : "/tenants/" + tenant + "/fhir";
    }

    /** Absolute FHIR base URL of a tenant. */
    public String fhirBase(HttpServerRequest request, String tenant) {
        return base(request) + fhirBasePath(tenant);
    }

    private static String first(String header) {
        if (header == null) {
            return null;
        }
        int comma = header.indexOf(',');
        String v = (comma >= 0 ? header.substring(0, comma) : header).trim();
        return v.isEmpty() ? null : v;
    }

    static String stripSlash(String s) {
        String out = s.trim();
        while (out.endsWith("/")) {
            out = out.substring(0, out.length() - 1);
        }
        return out;
    }
}
