package io.sluice.job;

import java.util.UUID;

/** A worker's hold on one job: every fenced write carries all three. */
public record Lease(UUID jobId, String workerId, long fencingToken) {
}
