package io.sluice.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.sluice.api.ApiException;
import io.sluice.config.AuthConfig;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * Client registration for operators: {@code POST/GET /admin/clients}, {@code GET/DELETE /admin/clients/{id}}.
 * Guarded by {@code Authorization: Bearer <sluice.auth.admin-token>}; answers 404 when no admin token is configured.
 */
@Path("/admin/clients")
public class AdminClientsResource {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final ClientRegistry registry;
    private final byte[] adminToken;

    public AdminClientsResource(ClientRegistry registry, AuthConfig config) {
        this.registry = registry;
        this.adminToken = config.adminToken().filter(s -> !s.isBlank())
                .map(s -> s.getBytes(StandardCharsets.UTF_8)).orElse(null);
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Response> register(@HeaderParam("Authorization") String authorization, String body) {
        guard(authorization);
        JsonNode definition;
        try {
            definition = body == null || body.isBlank() ? null : MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("the body is not JSON: " + e.getOriginalMessage());
        }
        return registry.register(definition)
                .map(c -> Response.created(URI.create("/admin/clients/" + URLEncoder.encode(c.clientId(), StandardCharsets.UTF_8)))
                        .type(MediaType.APPLICATION_JSON_TYPE).entity(c.toJson()).build())
                .onFailure(RegisteredClient.InvalidClientDefinition.class).transform(e -> ApiException.badRequest(e.getMessage()))
                .onFailure(ClientRegistry.DuplicateClient.class).transform(e -> new ApiException(409, "duplicate", e.getMessage()));
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<ArrayNode> list(@HeaderParam("Authorization") String authorization) {
        guard(authorization);
        return registry.list().map(all -> {
            ArrayNode a = JsonNodeFactory.instance.arrayNode();
            all.forEach(c -> a.add(c.toJson()));
            return a;
        });
    }

    @GET
    @Path("/{clientId}")
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<JsonNode> get(@HeaderParam("Authorization") String authorization, @PathParam("clientId") String clientId) {
        guard(authorization);
        return registry.find(clientId).map(c -> c.<JsonNode>map(RegisteredClient::toJson)
                .orElseThrow(() -> ApiException.notFound("no client " + clientId)));
    }

    @DELETE
    @Path("/{clientId}")
    public Uni<Response> delete(@HeaderParam("Authorization") String authorization, @PathParam("clientId") String clientId) {
        guard(authorization);
        return registry.delete(clientId)
                .map(deleted -> {
                    if (!deleted) {
                        throw ApiException.notFound("no client " + clientId);
                    }
                    return Response.noContent().build();
                })
                .onFailure(ClientRegistry.FileClient.class).transform(e -> new ApiException(409, "conflict", e.getMessage()));
    }

    private void guard(String authorization) {
        if (adminToken == null) {
            throw ApiException.notFound("the admin endpoint is disabled (set sluice.auth.admin-token to enable it)");
        }
        String presented = authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                ? authorization.substring(7).trim() : "";
        if (presented.isEmpty() || !MessageDigest.isEqual(adminToken, presented.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "login", "the admin endpoint needs Authorization: Bearer <sluice.auth.admin-token>",
                    Map.of("WWW-Authenticate", "Bearer realm=\"sluice-admin\", error=\"invalid_token\""));
        }
    }
}
