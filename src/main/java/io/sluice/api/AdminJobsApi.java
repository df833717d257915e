package io.sluice.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import io.sluice.auth.AdminToken;
import io.sluice.config.OpsConfig;
import io.sluice.job.JobAdminQueries;
import io.sluice.job.JobAdminQueries.AdminJob;
import io.sluice.job.JobAdminQueries.StatusCount;
import io.sluice.job.JobStatus;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * JSON API of the ops dashboard ({@code /admin}): jobs of every tenant with progress, lease and
 * files, job counts, and cancel. Every call needs {@code Authorization: Bearer <sluice.auth.admin-token>}.
 */
@Path("/admin/api")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Admin", description = "Operator API (Bearer sluice.auth.admin-token)")
public class AdminJobsApi {

    private static final Pattern TENANT = Pattern.compile("[a-z0-9-]{1,64}");

    private final AdminToken admin;
    private final JobAdminQueries queries;
    private final OpsConfig config;

    public AdminJobsApi(AdminToken admin, JobAdminQueries queries, OpsConfig config) {
        this.admin = admin;
        this.queries = queries;
        this.config = config;
    }

    /** Result of a cancel. */
    @RegisterForReflection
    public record CancelResult(UUID id, String outcome) {
    }

    @GET
    @Path("/jobs")
    @Operation(summary = "Export jobs, newest first, optionally of one tenant and status")
    public Uni<List<AdminJob>> jobs(@HeaderParam("Authorization") String authorization, @QueryParam("tenant") String tenant,
                                    @QueryParam("status") String status, @QueryParam("limit") Integer limit) {
        admin.check(authorization);
        String t = tenant == null || tenant.isBlank() ? null : tenant;
        if (t != null && !TENANT.matcher(t).matches()) {
            throw ApiException.badRequest("tenant must match [a-z0-9-]{1,64}: " + tenant);
        }
        String s = status == null || status.isBlank() ? null : status;
        if (s != null) {
            try {
                JobStatus.fromWire(s);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("status must be one of accepted, in-progress, complete, error, cancelled: " + s);
            }
        }
        int max = config.adminMaxJobs();
        int n = limit == null ? max : limit;
        if (n < 1 || n > max) {
            throw ApiException.badRequest("limit must be between 1 and " + max + " (sluice.ops.admin-max-jobs): " + limit);
        }
        return queries.jobs(t, s, n);
    }

    @GET
    @Path("/summary")
    @Operation(summary = "Number of jobs per tenant and status")
    public Uni<List<StatusCount>> summary(@HeaderParam("Authorization") String authorization) {
        admin.check(authorization);
        return queries.counts();
    }

    @POST
    @Path("/jobs/{id}/cancel")
    @Operation(summary = "Cancel an accepted or in-progress job of any tenant (409 when already finished)")
    public Uni<CancelResult> cancel(@HeaderParam("Authorization") String authorization, @PathParam("id") String id) {
        admin.check(authorization);
        UUID jobId;
        try {
            jobId = UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            throw ApiException.notFound("no export job " + id);
        }
        return queries.cancel(jobId).map(outcome -> switch (outcome) {
            case CANCELLED -> new CancelResult(jobId, "cancelled");
            case ALREADY_FINISHED -> throw new ApiException(409, "conflict", "export job " + jobId + " has already finished");
            case NOT_FOUND -> throw ApiException.notFound("no export job " + jobId);
        });
    }
}
