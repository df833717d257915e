package io.sluice.api;

import io.sluice.auth.AccessTokens;
import io.sluice.auth.Caller;
import io.sluice.auth.ExportScopes;
import io.sluice.auth.PublicUrls;
import io.sluice.config.AuthConfig;
import io.sluice.job.ExportRequest;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The one place authorization meets the export API: who owns a job, which types a caller may
 * export, whether files need a token, and the token check of file downloads (which bypass JAX-RS
 * and therefore the {@code FhirAuthFilter}). With auth off the owner is {@code ""}, every type is
 * readable and files need no token.
 */
@ApplicationScoped
public class AccessPolicy {

    /** A refused download: status (401/403) and reason. */
    public static final class Denied extends Exception {
        private final int status;

        Denied(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Caller caller;
    private final AuthConfig config;
    private final AccessTokens tokens;
    private final PublicUrls urls;

    public AccessPolicy(Caller caller, AuthConfig config, AccessTokens tokens, PublicUrls urls) {
        this.caller = caller;
        this.config = config;
        this.tokens = tokens;
        this.urls = urls;
    }

    /** The client id owning jobs of the current JAX-RS request ({@code ""} while auth is off). Call it on the request's thread. */
    public String owner() {
        return config.enabled() ? caller.owner() : "";
    }

    /** The manifest's {@code requiresAccessToken}: whether downloading files needs the bearer token. */
    public boolean requiresAccessToken() {
        return config.enabled();
    }

    /** Narrows a parsed kick-off to the caller's readable types (see {@link ExportScopes#narrow}); 403 when refused. */
    public ExportRequest narrow(ExportRequest request, boolean lenient) {
        if (!config.enabled()) {
            return request;
        }
        ExportScopes.Narrowed n = ExportScopes.narrow(request, caller.readableTypesOrAll(), lenient);
        if (n.refused()) {
            throw new ApiException(403, "forbidden", "the token's scope does not allow reading " + n.refusedTypes());
        }
        return n.request();
    }

    /**
     * The owner a file download is made for: {@code ""} with auth off, else the client id of a
     * valid bearer token for this tenant with some read scope.
     *
     * @throws Denied 401 without a valid token, 403 without read scope
     */
    public String downloadOwner(HttpServerRequest request, String tenant) throws Denied {
        if (!config.enabled()) {
            return "";
        }
        String header = request.getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.substring(7).isBlank()) {
            throw new Denied(401, "this file needs Authorization: Bearer <access token> (requiresAccessToken is true)");
        }
        AccessTokens.Verified v;
        try {
            v = tokens.verify(header.substring(7).trim(), tenant, urls.base(request));
        } catch (AccessTokens.InvalidToken e) {
            throw new Denied(401, e.getMessage());
        }
        if (!v.scopes().permitsSomeRead()) {
            throw new Denied(403, "the token's scope '" + v.scopes() + "' allows no reading");
        }
        return v.clientId();
    }
}
