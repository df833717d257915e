package io.sluice.auth;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.ApiException;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

/** {@code GET /tenants/{tenant}/fhir/.well-known/smart-configuration}; 404 when auth is off. */
@Path("/tenants/{tenant}/fhir/.well-known")
public class TenantSmartConfigurationResource {

    private final SmartConfiguration smart;

    public TenantSmartConfigurationResource(SmartConfiguration smart) {
        this.smart = smart;
    }

    @GET
    @Path("/smart-configuration")
    @Produces(MediaType.APPLICATION_JSON)
    public ObjectNode smartConfiguration(@PathParam("tenant") String tenant, @Context HttpServerRequest request) {
        if (!RegisteredClient.TENANT.matcher(tenant).matches()) {
            throw ApiException.notFound("unknown tenant '" + tenant + "' (tenant ids match [a-z0-9-]{1,64})");
        }
        if (!smart.enabled()) {
            throw ApiException.notFound("authorization is switched off on this server: no token is needed");
        }
        return smart.document(request);
    }
}
