package io.sluice.auth;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.ApiException;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

/** {@code GET /fhir/.well-known/smart-configuration} (default tenant); 404 when auth is off. */
@Path("/fhir/.well-known")
public class SmartConfigurationResource {

    private final SmartConfiguration smart;

    public SmartConfigurationResource(SmartConfiguration smart) {
        this.smart = smart;
    }

    @GET
    @Path("/smart-configuration")
    @Produces(MediaType.APPLICATION_JSON)
    public ObjectNode smartConfiguration(@Context HttpServerRequest request) {
        if (!smart.enabled()) {
            throw ApiException.notFound("authorization is switched off on this server: no token is needed");
        }
        return smart.document(request);
    }
}
