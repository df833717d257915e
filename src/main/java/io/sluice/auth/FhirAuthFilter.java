package io.sluice.auth;

import io.sluice.config.AuthConfig;
import io.sluice.fhir.OperationOutcomes;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.ArrayList;
import java.util.List;

/**
 * Resource-server enforcement on {@code /fhir/**} and {@code /tenants/**}: checks the bearer token and
 * the scope {@link RequiredAccess} asks for, and fills the request's {@link Caller}. 401 (with
 * {@code WWW-Authenticate: Bearer ... error="invalid_token"}) for a missing, empty, expired, forged,
 * wrong-audience or wrong-tenant token; 403 for an insufficient scope. Both carry an OperationOutcome.
 * With auth off it only records the tenant and ignores any Authorization header.
 */
public class FhirAuthFilter {

    static final String REALM = "sluice";

    private final AuthConfig config;
    private final AccessTokens tokens;
    private final PublicUrls urls;
    private final Caller caller;

    public FhirAuthFilter(AuthConfig config, AccessTokens tokens, PublicUrls urls, Caller caller) {
        this.config = config;
        this.tokens = tokens;
        this.urls = urls;
        this.caller = caller;
    }

    /** The tenant and the path segments after the FHIR base of a request path, or null outside FHIR paths. */
    record FhirPath(String tenant, List<String> segments, boolean validTenant) {
    }

    static FhirPath parse(String path) {
        List<String> segs = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                segs.add(s);
            }
        }
        if (segs.isEmpty()) {
            return null;
        }
        if (segs.get(0).equals("fhir")) {
            return new FhirPath(PublicUrls.DEFAULT_TENANT, segs.subList(1, segs.size()), true);
        }
        if (segs.get(0).equals("tenants") && segs.size() >= 2) {
            String t = segs.get(1);
            boolean valid = RegisteredClient.TENANT.matcher(t).matches();
            if (segs.size() >= 3 && segs.get(2).equals("fhir")) {
                return new FhirPath(t, segs.subList(3, segs.size()), valid);
            }
            // a non-FHIR path under a tenant: treat like an unknown operation of that tenant
            return new FhirPath(t, List.of("_tenant", "x"), valid);
        }
        if (segs.get(0).equals("tenants")) {
            return new FhirPath("", List.of("_tenant", "x"), false);
        }
        return null;
    }

    @ServerRequestFilter(priority = Priorities.AUTHENTICATION)
    public Response filter(ContainerRequestContext ctx, HttpServerRequest request) {
        FhirPath fp = parse(ctx.getUriInfo().getPath());
        if (fp == null) {
            return null;
        }
        if (!config.enabled()) {
            caller.set("", fp.tenant(), ScopeSet.EMPTY);
            return null;
        }
        RequiredAccess need = RequiredAccess.of(ctx.getMethod(), fp.segments());
        if (need.kind() == RequiredAccess.Kind.PUBLIC) {
            caller.set("", fp.tenant(), ScopeSet.EMPTY);
            return null;
        }
        if (!fp.validTenant()) {
            return Response.status(400).type("application/fhir+json")
                    .entity(OperationOutcomes.error("invalid", "invalid tenant: tenant ids match [a-z0-9-]{1,64}")).build();
        }
        String header = ctx.getHeaderString("Authorization");
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
        if (header != null && header.trim().equalsIgnoreCase("Bearer")) {
            token = "";
        }
        if (token == null) {
            return unauthorized("login", "this request needs Authorization: Bearer <access token>; get one at the token_endpoint of .well-known/smart-configuration");
        }
        if (token.isEmpty()) {
            return unauthorized("login", "the bearer token is empty");
        }
        AccessTokens.Verified v;
        try {
            v = tokens.verify(token, fp.tenant(), urls.base(request));
        } catch (AccessTokens.InvalidToken e) {
            return unauthorized(e.expired() ? "expired" : "unknown", e.getMessage());
        }
        caller.set(v.clientId(), fp.tenant(), v.scopes());
        if (!need.allowedBy(v.scopes())) {
            String msg = "the token's scope '" + v.scopes() + "' does not include " + need.describe();
            return Response.status(403).type("application/fhir+json")
                    .header("WWW-Authenticate", "Bearer realm=\"" + REALM + "\", error=\"insufficient_scope\", error_description=\""
                            + quote(msg) + "\"")
                    .entity(OperationOutcomes.error("forbidden", msg)).build();
        }
        return null;
    }

    private static Response unauthorized(String issueCode, String message) {
        return Response.status(401).type("application/fhir+json")
                .header("WWW-Authenticate", "Bearer realm=\"" + REALM + "\", error=\"invalid_token\", error_description=\""
                        + quote(message) + "\"")
                .entity(OperationOutcomes.error(issueCode, message)).build();
    }

    private static String quote(String s) {
        return s.replace("\\", "").replace("\"", "'");
    }
}
