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
 * FHIR REST routes of the default tenant ({@code /fhir}). Type and id segments are constrained by
 * regex so literal operation routes such as {@code /fhir/$export} or {@code /fhir/Patient/$export}
 * never match here.
 */
@Path("/fhir")
public class DefaultFhirResource {

    static final String TYPE = "{type: [A-Z][A-Za-z]+}";
    static final String ID = "{id: [A-Za-z0-9\\-.]{1,64}}";

    private final FhirApi api;

    public DefaultFhirResource(FhirApi api) {
        this.api = api;
    }

    @GET
    @Path("metadata")
    public Response metadata(@Context UriInfo uri, @Context HttpHeaders headers, @Context HttpServerRequest request) {
        return api.metadata(uri, headers, request, FhirApi.DEFAULT_TENANT);
    }

    /** Transaction or batch Bundle. */
    @POST
    @Consumes({FhirMedia.FHIR_JSON, "application/json"})
    public Uni<Response> bundle(@Context UriInfo uri, String body) {
        return api.bundle(uri, FhirApi.DEFAULT_TENANT, body);
    }

    /** Bulk NDJSON ingest; see {@link FhirApi#ingest}. */
    @POST
    @Path("$ingest")
    @Blocking
    @Consumes({FhirMedia.FHIR_NDJSON, FhirMedia.NDJSON, FhirMedia.X_NDJSON})
    public Response ingest(InputStream body, @HeaderParam("Content-Encoding") String encoding) {
        return api.ingest(FhirApi.DEFAULT_TENANT, body, encoding);
    }

    @POST
    @Path(TYPE)
    @Consumes({FhirMedia.FHIR_JSON, "application/json"})
    public Uni<Response> create(@Context UriInfo uri, @PathParam("type") String type, String body) {
        return api.create(uri, FhirApi.DEFAULT_TENANT, type, body);
    }

    @PUT
    @Path(TYPE + "/" + ID)
    @Consumes({FhirMedia.FHIR_JSON, "application/json"})
    public Uni<Response> update(@Context UriInfo uri, @PathParam("type") String type, @PathParam("id") String id,
                                String body) {
        return api.update(uri, FhirApi.DEFAULT_TENANT, type, id, body);
    }

    @GET
    @Path(TYPE + "/" + ID)
    public Uni<Response> read(@PathParam("type") String type, @PathParam("id") String id) {
        return api.read(FhirApi.DEFAULT_TENANT, type, id);
    }

    @GET
    @Path(TYPE + "/" + ID + "/_history/{vid: [^/]+}")
    public Uni<Response> vread(@PathParam("type") String type, @PathParam("id") String id,
                               @PathParam("vid") String vid) {
        return api.vread(FhirApi.DEFAULT_TENANT, type, id, vid);
    }

    @DELETE
    @Path(TYPE + "/" + ID)
    public Uni<Response> delete(@PathParam("type") String type, @PathParam("id") String id) {
        return api.delete(FhirApi.DEFAULT_TENANT, type, id);
    }
}
