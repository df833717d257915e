package io.sluice.export;

import io.sluice.config.ExportConfig;
import io.sluice.job.RetryPolicy;

import java.time.Duration;

/** Tunables of one {@link ExportWorker}; normally from {@link ExportConfig}, tests build their own. */
public record EngineSettings(int batchSize, long pageMaxBytes, int partMaxResources, long partMaxBytes, Duration lease,
                             Duration heartbeat, int maxAttempts, int slots, RetryPolicy retry,
                             boolean groupNewMembersFullHistory, boolean countTotals, int parallelTypes) {

    public static EngineSettings from(ExportConfig c) {
        return new EngineSettings(c.batchSize(), c.pageMaxBytes(), c.partMaxResources(), c.partMaxBytes(), c.lease(), c.heartbeat(),
                c.maxAttempts(), c.workerSlots(),
                new RetryPolicy(c.transientRetries(), c.retryBaseDelay(), c.retryBaseDelay().multipliedBy(30)),
                c.groupNewMembersFullHistory(), c.countTotals(), c.parallelTypes());
    }

    public EngineSettings withParts(int batch, int maxResources, long maxBytes) {
        return new EngineSettings(batch, pageMaxBytes, maxResources, maxBytes, lease, heartbeat, maxAttempts, slots, retry,
                groupNewMembersFullHistory, countTotals, parallelTypes);
    }

    public EngineSettings withLease(Duration leaseLength, Duration heartbeatEvery) {
        return new EngineSettings(batchSize, pageMaxBytes, partMaxResources, partMaxBytes, leaseLength, heartbeatEvery, maxAttempts,
                slots, retry, groupNewMembersFullHistory, countTotals, parallelTypes);
    }

    public EngineSettings withSlots(int n) {
        return new EngineSettings(batchSize, pageMaxBytes, partMaxResources, partMaxBytes, lease, heartbeat, maxAttempts, n, retry,
                groupNewMembersFullHistory, countTotals, parallelTypes);
    }

    public EngineSettings withMaxAttempts(int n) {
        return new EngineSettings(batchSize, pageMaxBytes, partMaxResources, partMaxBytes, lease, heartbeat, n, slots, retry,
                groupNewMembersFullHistory, countTotals, parallelTypes);
    }

    public EngineSettings withGroupNewMembersFullHistory(boolean b) {
        return new EngineSettings(batchSize, pageMaxBytes, partMaxResources, partMaxBytes, lease, heartbeat, maxAttempts, slots, retry,
                b, countTotals, parallelTypes);
    }

    public EngineSettings withPageMaxBytes(long bytes) {
        return new EngineSettings(batchSize, bytes, partMaxResources, partMaxBytes, lease, heartbeat, maxAttempts, slots,
                retry, groupNewMembersFullHistory, countTotals, parallelTypes);
    }

    public EngineSettings withParallelTypes(int n) {
        return new EngineSettings(batchSize, pageMaxBytes, partMaxResources, partMaxBytes, lease, heartbeat, maxAttempts,
                slots, retry, groupNewMembersFullHistory, countTotals, n);
    }
}
