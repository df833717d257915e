package io.sluice.export;

import io.sluice.job.ClaimedJob;
import io.sluice.job.LeaseLostException;
import io.sluice.output.FinalizedPart;
import io.smallrye.mutiny.Uni;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One engine instance's worker: claims up to {@code slots} jobs and runs each as a non-blocking
 * pipeline ({@link JobRun}) under a heartbeated lease. {@link #runOnce()} is the whole trigger; the
 * runtime calls it from the scheduled tick, on LISTEN/NOTIFY and on local creates; a finished job
 * triggers the next claim.
 */
public class ExportWorker {

    private static final Logger LOG = Logger.getLogger(ExportWorker.class);

    /** Observation and fault-injection points for tests; all default to doing nothing. */
    public interface Hooks {
        /** Called when this worker starts running a claimed job. */
        default void jobStarted(ClaimedJob job) {
        }

        /** Called when this worker stops running a job, whatever the outcome. */
        default void jobEnded(ClaimedJob job) {
        }

        /** Between finalizing a part and recording it (the crash window). */
        default Uni<Void> afterFinalize(ClaimedJob job, FinalizedPart part) {
            return Uni.createFrom().voidItem();
        }
    }

    /** Marks a run stopped by {@link #halt()} (simulated crash) or {@link #shutdown()}: no writes follow. */
    static final class Stopped extends RuntimeException {
        final boolean crash;

        Stopped(String message, boolean crash) {
            super(message, null, false, false);
            this.crash = crash;
        }
    }

    final ExportEngine engine;
    final String workerId;
    final EngineSettings settings;
    volatile Hooks hooks = new Hooks() {
    };

    private final Map<UUID, JobRun> active = new ConcurrentHashMap<>();
    private final AtomicBoolean claiming = new AtomicBoolean(false);
    private volatile boolean rerun;
    private volatile boolean accepting = true;

    ExportWorker(ExportEngine engine, String workerId, EngineSettings settings) {
        this.engine = engine;
        this.workerId = workerId;
        this.settings = settings;
    }

    public String id() {
        return workerId;
    }

    public EngineSettings settings() {
        return settings;
    }

    public void setHooks(Hooks hooks) {
        this.hooks = hooks;
    }

    /** Jobs running here now. */
    public int activeCount() {
        return active.size();
    }

    /**
     * Claims as many jobs as there are free slots and starts them. Returns how many were claimed;
     * when a claim is already in flight it returns 0 and claims again after it.
     */
    public Uni<Integer> runOnce() {
        if (!accepting) {
            return Uni.createFrom().item(0);
        }
        int free = settings.slots() - active.size();
        if (free <= 0) {
            return Uni.createFrom().item(0);
        }
        if (!claiming.compareAndSet(false, true)) {
            rerun = true;
            return Uni.createFrom().item(0);
        }
        long claimStart = System.nanoTime();
        return engine.jobs.claim(workerId, free, settings.lease(), settings.maxAttempts())
                .map(claimed -> {
                    engine.metrics.claimed(Duration.ofNanos(System.nanoTime() - claimStart), claimed.size());
                    for (ClaimedJob job : claimed) {
                        start(job);
                    }
                    return claimed.size();
                })
                .eventually(() -> {
                    claiming.set(false);
                    if (rerun) {
                        rerun = false;
                        wake();
                    }
                });
    }

    /** Fire-and-forget {@link #runOnce()}. */
    public void wake() {
        runOnce().subscribe().with(n -> {
        }, e -> LOG.warnf("claim failed on worker %s: %s", workerId, e.getMessage()));
    }

    private void start(ClaimedJob job) {
        if (!accepting) {
            // claimed during shutdown: hand it back at once
            engine.jobs.release(job.lease()).subscribe().with(v -> {
            }, e -> {
            });
            return;
        }
        if (job.attempts() > 1) {
            engine.metrics.leaseReclaimed();
        }
        JobRun run = new JobRun(this, job);
        active.put(job.lease().jobId(), run);
        hooks.jobStarted(job);
        // the run gets its own duplicated Vert.x context carrying the job's MDC (job id, tenant, worker id)
        JobMdc.runOnJobContext(engine.vertx, job, workerId, () -> run.run().subscribe().with(v -> ended(run), e -> {
            JobMdc.log(job, workerId, () ->
                    LOG.errorf(e, "export job %s ended abnormally on worker %s", job.lease().jobId(), workerId));
            ended(run);
        }));
    }

    private void ended(JobRun run) {
        active.remove(run.job.lease().jobId(), run);
        hooks.jobEnded(run.job);
        if (accepting) {
            wake();
        }
    }

    /** A client cancelled this job (NOTIFY from any instance): stop it now if it runs here. */
    public void cancelled(UUID jobId) {
        JobRun run = active.get(jobId);
        if (run != null) {
            run.stop(new LeaseLostException(jobId, LeaseLostException.Reason.CANCELLED));
        }
    }

    /**
     * Graceful stop: claims nothing more, stops every pipeline and releases the leases (fenced,
     * lease_expires_at = now) so another instance resumes the jobs at once.
     */
    public Uni<Void> shutdown() {
        accepting = false;
        List<JobRun> runs = List.copyOf(active.values());
        for (JobRun r : runs) {
            r.stop(new Stopped("worker " + workerId + " shutting down", false));
        }
        if (runs.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return Uni.join().all(runs.stream().map(r -> engine.jobs.release(r.job.lease())
                        .onFailure().recoverWithNull()).toList()).andCollectFailures()
                .replaceWithVoid()
                .ifNoItem().after(Duration.ofSeconds(10)).recoverWithItem((Void) null);
    }

    /** Simulates a crash (kill -9): stops claiming, heartbeats and pipelines, writes nothing, releases nothing. */
    public void halt() {
        accepting = false;
        for (JobRun r : List.copyOf(active.values())) {
            r.stop(new Stopped("worker " + workerId + " halted", true));
        }
    }
}
