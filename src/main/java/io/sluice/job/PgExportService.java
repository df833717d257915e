package io.sluice.job;

import io.sluice.output.OutputStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;

import java.util.Optional;
import java.util.UUID;

/**
 * {@link ExportService} on the PostgreSQL job store. {@code create} fixes the snapshot instant under
 * the per-tenant advisory lock, NOTIFYs the other replicas and wakes the local worker at once.
 */
@ApplicationScoped
public class PgExportService implements ExportService {

    private final JobStore jobs;
    private final OutputStore output;
    private final Event<JobsAvailable> created;

    public PgExportService(JobStore jobs, OutputStore output, Event<JobsAvailable> created) {
        this.jobs = jobs;
        this.output = output;
        this.created = created;
    }

    @Override
    public Uni<ExportJobView> create(NewExportJob job) {
        return jobs.insertJob(job)
                .invoke(id -> created.fire(new JobsAvailable(id)))
                .chain(id -> jobs.find(job.tenant(), id, job.owner()))
                .map(view -> view.orElseThrow(() -> new JobStoreException("job vanished right after creation")));
    }

    @Override
    public Uni<Optional<ExportJobView>> find(String tenant, UUID jobId, String owner) {
        return jobs.find(tenant, jobId, owner);
    }

    @Override
    public Uni<Boolean> cancel(String tenant, UUID jobId, String owner) {
        return jobs.cancel(tenant, jobId, owner).chain(outcome -> outcome == JobStore.CancelOutcome.NOT_FOUND
                ? Uni.createFrom().item(false)
                : output.deleteJob(tenant, jobId)
                        // the cancel is committed; a worker still finishing a part may race the delete:
                        // retry, and leave stragglers to the retention cleanup rather than fail the DELETE
                        .onFailure().retry().withBackOff(java.time.Duration.ofMillis(50)).atMost(3)
                        .onFailure().recoverWithNull()
                        .replaceWith(true));
    }

    @Override
    public Uni<Long> countActive(String tenant, String owner) {
        return jobs.countActive(tenant, owner);
    }
}
