package io.sluice.output;

import java.util.UUID;

/**
 * Names one part file of a job.
 *
 * @param kind          output, error or deleted
 * @param fencingToken  the writer's token: parts written under different leases never share a name
 */
public record PartKey(String tenant, UUID jobId, String kind, String resourceType, int partIndex, long fencingToken) {
}
