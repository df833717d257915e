package io.sluice.job;

import java.util.UUID;

/**
 * A fenced write matched no row: the job is no longer this worker's (reclaimed by another worker,
 * cancelled, or finished). The worker stops the job at once and writes nothing more.
 */
public class LeaseLostException extends JobStoreException {

    /** Why the lease is gone, as far as the store could tell. */
    public enum Reason {
        /** Another worker holds the job now (higher fencing token), or the lease was released. */
        RECLAIMED,
        /** The job was cancelled by its client. */
        CANCELLED,
        /** The job is complete or failed, or its row is gone. */
        FINISHED
    }

    private final UUID jobId;
    private final Reason reason;

    public LeaseLostException(UUID jobId, Reason reason) {
        super("export job " + jobId + " lease lost (" + reason.name().toLowerCase() + ")", null);
        this.jobId = jobId;
        this.reason = reason;
    }

    public UUID jobId() {
        return jobId;
    }

    public Reason reason() {
        return reason;
    }
}
