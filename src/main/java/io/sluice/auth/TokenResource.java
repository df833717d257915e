package io.sluice.auth;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** The built-in authorization server: {@code POST /auth/token} and the public keys at {@code GET /auth/jwks}. */
@Path("/auth")
public class TokenResource {

    /** Largest token request body accepted. */
    static final int MAX_FORM_BYTES = 64 * 1024;

    private final TokenService service;
    private final PublicUrls urls;
    private final ServerKeys keys;
    private final io.sluice.config.AuthConfig config;

    public TokenResource(TokenService service, PublicUrls urls, ServerKeys keys, io.sluice.config.AuthConfig config) {
        this.service = service;
        this.urls = urls;
        this.keys = keys;
        this.config = config;
    }

    /** Client credentials grant with a private_key_jwt assertion (SMART Backend Services). */
    @POST
    @Path("/token")
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Response> token(@HeaderParam("Content-Type") String contentType, String body,
                               @Context HttpServerRequest request) {
        if (!config.enabled()) {
            throw new OAuthException(404, "invalid_request", "authorization is switched off on this server (sluice.auth.enabled=false)");
        }
        if (contentType == null || !contentType.toLowerCase(java.util.Locale.ROOT).startsWith(MediaType.APPLICATION_FORM_URLENCODED)) {
            throw OAuthException.invalidRequest("the token request must be application/x-www-form-urlencoded");
        }
        Map<String, String> form = parseForm(body);
        String remote = request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
        return service.exchange(form, urls.tokenEndpoint(request), urls.base(request), remote)
                .map(issued -> {
                    ObjectNode o = JsonNodeFactory.instance.objectNode();
                    o.put("access_token", issued.token());
                    o.put("token_type", "bearer");
                    o.put("expires_in", issued.expiresInSeconds());
                    o.put("scope", issued.scope());
                    return Response.ok(o, MediaType.APPLICATION_JSON_TYPE)
                            .header("Cache-Control", "no-store").header("Pragma", "no-cache").build();
                });
    }

    /** Public keys of issued access tokens (for resource servers that verify them on their own). */
    @GET
    @Path("/jwks")
    @Produces(MediaType.APPLICATION_JSON)
    public String jwks() {
        return keys.publicKeys().toString(true);
    }

    static Map<String, String> parseForm(String body) {
        if (body == null || body.isBlank()) {
            throw OAuthException.invalidRequest("the token request has no form parameters");
        }
        if (body.length() > MAX_FORM_BYTES) {
            throw OAuthException.invalidRequest("the token request is too large");
        }
        Map<String, String> out = new HashMap<>();
        for (String pair : body.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name;
            String value;
            try {
                name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw OAuthException.invalidRequest("the form body is not valid application/x-www-form-urlencoded");
            }
            if (out.put(name, value) != null) {
                throw OAuthException.invalidRequest("parameter " + name + " appears more than once");
            }
        }
        return out;
    }

    /** RFC 6749 section 5.2 error response. */
    @ServerExceptionMapper
    public Response map(OAuthException e) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("error", e.error());
        o.put("error_description", e.getMessage());
        Response.ResponseBuilder b = Response.status(e.status()).type(MediaType.APPLICATION_JSON_TYPE).entity(o)
                .header("Cache-Control", "no-store").header("Pragma", "no-cache");
        if (e.retryAfterSeconds() > 0) {
            b.header("Retry-After", Long.toString(e.retryAfterSeconds()));
        }
        return b.build();
    }
}
