package io.sluice.job;

import io.smallrye.mutiny.Uni;

import java.util.Optional;
import java.util.UUID;

/**
 * The engine's face towards the REST layer: start a job, read its state, cancel it.
 * Every lookup is scoped by tenant and owner; another tenant's or owner's job is simply absent.
 */
public interface ExportService {

    /**
     * Creates an {@code accepted} job with its transactionTime fixed now (a consistent snapshot
     * instant: every write committed before it is visible, none after) and wakes the workers.
     */
    Uni<ExportJobView> create(NewExportJob job);

    /** The job with its per-type progress and recorded parts, if it exists for this tenant and owner. */
    Uni<Optional<ExportJobView>> find(String tenant, UUID jobId, String owner);

    /**
     * Cancels an {@code accepted} or {@code in-progress} job and deletes its files; a finished job
     * is deleted the same way (a client's DELETE means "I am done with it"). False when the job does
     * not exist for this tenant and owner, or was already cancelled.
     */
    Uni<Boolean> cancel(String tenant, UUID jobId, String owner);

    /** Number of accepted or in-progress jobs of a tenant, and of one owner when owner is non-null. */
    Uni<Long> countActive(String tenant, String owner);
}
