package io.sluice.api;

import io.smallrye.mutiny.Uni;
import io.sluice.job.ExportLevel;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

/** {@code $export} endpoints under {@code /tenants/{tenant}/fhir}; everything is done by {@link ExportApi}. */
@Path("/tenants/{tenant}/fhir")
public class TenantExportResource {

    private final ExportApi api;
    private final OperationDefinitions definitions;

    public TenantExportResource(ExportApi api, OperationDefinitions definitions) {
        this.api = api;
        this.definitions = definitions;
    }

    private ExportApi.Call call(String tenant, UriInfo uri, HttpHeaders headers) {
        return new ExportApi.Call(FhirApi.tenant(tenant), true, uri, headers);
    }

    @GET
    @Path("$export")
    public Uni<Response> systemGet(@PathParam("tenant") String tenant, @Context UriInfo uri, @Context HttpHeaders headers) {
        return api.kickoff(call(tenant, uri, headers), ExportLevel.SYSTEM, null, false, null);
    }

    @POST
    @Path("$export")
    public Uni<Response> systemPost(@PathParam("tenant") String tenant, @Context UriInfo uri, @Context HttpHeaders headers, String body) {
        return api.kickoff(call(tenant, uri, headers), ExportLevel.SYSTEM, null, true, body);
    }

    @GET
    @Path("Patient/$export")
    public Uni<Response> patientGet(@PathParam("tenant") String tenant, @Context UriInfo uri, @Context HttpHeaders headers) {
        return api.kickoff(call(tenant, uri, headers), ExportLevel.PATIENT, null, false, null);
    }

    @POST
    @Path("Patient/$export")
    public Uni<Response> patientPost(@PathParam("tenant") String tenant, @Context UriInfo uri, @Context HttpHeaders headers, String body) {
        return api.kickoff(call(tenant, uri, headers), ExportLevel.PATIENT, null, true, body);
    }

    @GET
    @Path("Group/{groupId}/$export")
    public Uni<Response> groupGet(@PathParam("tenant") String tenant, @PathParam("groupId") String groupId, @Context UriInfo uri, @Context HttpHeaders headers) {
        return api.kickoff(call(tenant, uri, headers), ExportLevel.GROUP, groupId, false, null);
    }

    @POST
    @Path("Group/{groupId}/$export")
    public Uni<Response> groupPost(@PathParam("tenant") String tenant, @PathParam("groupId") String groupId, @Context UriInfo uri, @Context HttpHeaders headers,
                                   String body) {
        return api.kickoff(call(tenant, uri, headers), ExportLevel.GROUP, groupId, true, body);
    }

    @GET
    @Path("$export-status/{jobId}")
    public Uni<Response> status(@PathParam("tenant") String tenant, @PathParam("jobId") String jobId, @Context UriInfo uri, @Context HttpHeaders headers) {
        return api.status(call(tenant, uri, headers), jobId);
    }

    @DELETE
    @Path("$export-status/{jobId}")
    public Uni<Response> cancel(@PathParam("tenant") String tenant, @PathParam("jobId") String jobId, @Context UriInfo uri, @Context HttpHeaders headers) {
        return api.cancel(call(tenant, uri, headers), jobId);
    }

    @GET
    @Path("OperationDefinition/{name: export|patient-export|group-export}")
    public Response operationDefinition(@PathParam("tenant") String tenant, @PathParam("name") String name) {
        return definitions.response(name);
    }
}
