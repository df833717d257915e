package io.sluice.job;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** A job as the API shows it: status, progress per type and the recorded parts. */
public record ExportJobView(
        UUID id,
        String tenant,
        JobStatus status,
        ExportLevel level,
        String groupId,
        ExportRequest request,
        String requestUrl,
        String owner,
        Instant transactionTime,
        Instant createdAt,
        Instant startedAt,
        Instant completedAt,
        String errorMessage,
        int attempts,
        List<TypeProgress> progress,
        List<Part> parts) {

    /** Progress of one resource type. */
    public record TypeProgress(String resourceType, long exported, Long total, boolean done) {
    }

    /**
     * A finalized, recorded file.
     *
     * @param kind     output, error or deleted
     * @param location the output store's name for it (what {@code OutputStore.read} takes)
     */
    public record Part(String kind, String resourceType, int partIndex, String location,
                       long resourceCount, long byteCount, String sha256) {
    }
}
