package io.sluice.export;

import io.quarkus.scheduler.Scheduled;
import io.sluice.config.ExportConfig;
import io.sluice.job.JobStore;
import io.sluice.output.OutputStore;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Deletes files and rows of finished (complete, error, cancelled) jobs whose completed_at is older
 * than {@code sluice.export.retention}. Accepted and in-progress jobs are never touched.
 */
@ApplicationScoped
public class RetentionCleaner {

    private static final Logger LOG = Logger.getLogger(RetentionCleaner.class);

    private final JobStore jobs;
    private final OutputStore output;
    private final ExportConfig config;

    public RetentionCleaner(JobStore jobs, OutputStore output, ExportConfig config) {
        this.jobs = jobs;
        this.output = output;
        this.config = config;
    }

    @Scheduled(every = "${sluice.worker.cleanup-every:5m}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            delayed = "10s")
    Uni<Void> scheduled() {
        return cleanOnce(jobs.clock().instant()).replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("retention cleanup failed: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }

    /** One pass as of {@code now}: returns how many jobs were removed. */
    public Uni<Integer> cleanOnce(Instant now) {
        Instant cutoff = now.minus(config.retention());
        AtomicInteger removed = new AtomicInteger();
        return jobs.expired(cutoff, 500).onItem().transformToMulti(list -> Multi.createFrom().iterable(list))
                .onItem().transformToUniAndConcatenate(job -> output.deleteJob(job.tenant(), job.id())
                        .chain(() -> jobs.deleteExpired(job.id(), cutoff))
                        .invoke(removed::addAndGet))
                .collect().last()
                .map(x -> removed.get());
    }
}
