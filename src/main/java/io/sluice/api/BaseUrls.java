package io.sluice.api;

import io.sluice.auth.PublicUrls;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.UriInfo;

import java.net.URI;

/**
 * Absolute URLs of one JAX-RS request as the client sees this server, by {@link PublicUrls} (the
 * configured {@code sluice.api.public-base-url}, else the request's own scheme and host overridden by
 * the X-Forwarded-* headers): the same root the token endpoint and audience use.
 */
public final class BaseUrls {

    private final String root;
    private final URI requestUri;

    private BaseUrls(String root, URI requestUri) {
        this.root = root;
        this.requestUri = requestUri;
    }

    /** Computes the server root for one request. */
    public static BaseUrls of(PublicUrls urls, UriInfo uri, HttpHeaders headers) {
        URI request = uri.getRequestUri();
        String scheme = request.getScheme();
        int port = request.getPort();
        boolean defaultPort = port < 0 || ("http".equals(scheme) && port == 80) || ("https".equals(scheme) && port == 443);
        String ownHost = request.getHost() + (defaultPort ? "" : ":" + port);
        return new BaseUrls(urls.base(headers::getHeaderString, scheme, ownHost), request);
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
}
