package io.sluice.api;

import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.UriInfo;

import java.io.InputStream;

/**
 * FHIR REST routes of a named tenant ({@code /tenants/{tenant}/fhir}), same as {@link DefaultFhirResource}. Type and id segments are constrained by
 * regex so literal operation routes such as {@code /fhir/$export} or {@code /fhir/Patient/$export}
 * never match here.
 */
@Path("/tenants/{tenant}/fhir")
public class TenantFhirResource {




    private final FhirApi api;

    public TenantFhirResource(FhirApi api) {
        this.api = api;
    }

    @GET
    @Path("metadata")
    public Response metadata(@Context UriInfo uri, @Context HttpHeaders headers, @Context HttpServerRequest request, @PathParam("tenant") String tenant) {
        return api.metadata(uri, headers, request, FhirApi.tenant(tenant));
    }

    /** Transaction or batch Bundle. */
    @POST
    @Consumes({FhirMedia.FHIR_JSON, "application/json"})
    public Uni<Response> bundle(@Context UriInfo uri, @PathParam("tenant") String tenant, String body) {
        return api.bundle(uri, FhirApi.tenant(tenant), body);
    }

    /** Bulk NDJSON ingest; see {@link FhirApi#ingest}. */
    @POST
    @Path("$ingest")
    @Blocking
    @Consumes({FhirMedia.FHIR_NDJSON, FhirMedia.NDJSON, FhirMedia.X_NDJSON})
    public Response ingest(@PathParam("tenant") String tenant, InputStream body, @HeaderParam("Content-Encoding") String encoding) {
        return api.ingest(FhirApi.tenant(tenant), body, encoding);
    }

    @POST
    @Path(DefaultFhirResource.TYPE)
    @Consumes({FhirMedia.FHIR_JSON, "application/json"})
    public Uni<Response> create(@Context UriInfo uri, @PathParam("tenant") String tenant, @PathParam("type") String type, String body) {
        return api.create(uri, FhirApi.tenant(tenant), type, body);
    }

    @PUT
    @Path(DefaultFhirResource.TYPE + "/" + DefaultFhirResource.ID)
    @Consumes({FhirMedia.FHIR_JSON, "application/json"})
    public Uni<Response> update(@Context UriInfo uri, @PathParam("tenant") String tenant, @PathParam("type") String type, @PathParam("id") String id,
                                String body) {
        return api.update(uri, FhirApi.tenant(tenant), type, id, body);
    }

    @GET
    @Path(DefaultFhirResource.TYPE + "/" + DefaultFhirResource.ID)
    public Uni<Response> read(@PathParam("tenant") String tenant, @PathParam("type") String type, @PathParam("id") String id) {
        return api.read(FhirApi.tenant(tenant), type, id);
    }

    @GET
    @Path(DefaultFhirResource.TYPE + "/" + DefaultFhirResource.ID + "/_history/{vid: [^/]+}")
    public Uni<Response> vread(@PathParam("tenant") String tenant, @PathParam("type") String type, @PathParam("id") String id,
                               @PathParam("vid") String vid) {
        return api.vread(FhirApi.tenant(tenant), type, id, vid);
    }

    @DELETE
    @Path(DefaultFhirResource.TYPE + "/" + DefaultFhirResource.ID)
    public Uni<Response> delete(@PathParam("tenant") String tenant, @PathParam("type") String type, @PathParam("id") String id) {
        return api.delete(FhirApi.tenant(tenant), type, id);
    }
}
