package io.sluice.api;

import io.sluice.config.ApiConfig;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.UriInfo;

import java.net.URI;

/**
 * Absolute URLs as the client sees this server: the configured {@code sluice.api.public-base-url}
 * when set, else the request's scheme/host/port overridden by {@code X-Forwarded-Proto},
 * {@code X-Forwarded-Host}, {@code X-Forwarded-Port} and {@code X-Forwarded-Prefix}.
 */
public final class BaseUrls {

    private final String root;
    private final URI requestUri;

    private BaseUrls(String root, URI requestUri) {
        this.root = root;
        this.requestUri = requestUri;
    }

    /** Computes the server root for one request. */
    public static BaseUrls of(ApiConfig config, UriInfo uri, HttpHeaders headers) {
        URI request = uri.getRequestUri();
        if (config.publicBaseUrl().isPresent() && !config.publicBaseUrl().get().isBlank()) {
            return new BaseUrls(stripSlash(config.publicBaseUrl().get().trim()), request);
        }
        String scheme = request.getScheme();
        String host = request.getHost();
        int port = request.getPort();
        String prefix = "";
        if (config.trustForwardedHeaders()) {
            String proto = first(headers.getHeaderString("X-Forwarded-Proto"));
            if (proto != null && proto.matches("(?i)https?")) {
                scheme = proto.toLowerCase();
                port = -1;
            }
            String fwdHost = first(headers.getHeaderString("X-Forwarded-Host"));
            if (fwdHost != null && fwdHost.matches("[A-Za-z0-9.\\-]+(:\\d{1,5})?|\\[[0-9A-Fa-f:.]+](:\\d{1,5})?")) {
                int colon = fwdHost.lastIndexOf(':');
                if (colon > 0 && !fwdHost.endsWith("]")) {
                    host = fwdHost.substring(0, colon);
                    port = Integer.parseInt(fwdHost.substring(colon + 1));
                } else {
                    host = fwdHost;
                    port = -1;
                }
            }
            String fwdPort = first(headers.getHeaderString("X-Forwarded-Port"));
            if (fwdPort != null && fwdPort.matches("\\d{1,5}")) {
                port = Integer.parseInt(fwdPort);
            }
            String fwdPrefix = first(headers.getHeaderString("X-Forwarded-Prefix"));
            if (fwdPrefix != null && fwdPrefix.matches("(/[A-Za-z0-9._~\\-]+)+/?")) {
                prefix = stripSlash(fwdPrefix);
            }
        }
        boolean defaultPort = port < 0 || ("http".equals(scheme) && port == 80) || ("https".equals(scheme) && port == 443);
        String root = scheme + "://" + host + (defaultPort ? "" : ":" + port) + prefix;
        return new BaseUrls(root, request);
    }

    /** The FHIR base of a tenant: {@code [root]/fhir} for {@code default}, else {@code [root]/tenants/{tenant}/fhir}. */
    public String fhirBase(String tenant, boolean viaTenantPath) {
        return viaTenantPath ? root + "/tenants/" + tenant + "/fhir" : root + "/fhir";
    }

    /** The request URL (path and query as sent) on the public root. */
    public String requestUrl() {
        String q = requestUri.getRawQuery();
        return root + requestUri.getRawPath() + (q == null || q.isEmpty() ? "" : "?" + q);
    }

    private static String first(String header) {
        if (header == null) {
            return null;
        }
        String v = header.split(",", 2)[0].trim();
        return v.isEmpty() ? null : v;
    }

    private static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
