package io.sluice.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;

/**
 * Sluice's own Micrometer meters (exposed by Prometheus at {@code /q/metrics}). The engine and the
 * store call these at the points where things happen; {@link JobGauges} adds the job counts from
 * the database. Names are given in Micrometer form ({@code sluice.export.resources}); Prometheus
 * shows them with underscores and a {@code _total} / {@code _seconds} suffix.
 */
@ApplicationScoped
public class SluiceMetrics {

    private final MeterRegistry registry;

    public SluiceMetrics(MeterRegistry registry) {
        this.registry = registry;
        // counters of rare events exist at 0 from the start, so rate() and alerts work before the first one
        leaseReclaims().increment(0);
        for (String reason : new String[]{"RECLAIMED", "CANCELLED", "FINISHED"}) {
            leaseLostCounter(reason).increment(0);
        }
    }

    private Counter leaseReclaims() {
        return Counter.builder("sluice.lease.reclaims").description("Claims of jobs that an earlier lease had already started")
                .register(registry);
    }

    private Counter leaseLostCounter(String reason) {
        return Counter.builder("sluice.lease.lost").description("Leases this instance lost while running a job")
                .tag("reason", reason).register(registry);
    }

    /** The registry, for gauges. */
    public MeterRegistry registry() {
        return registry;
    }

    /** Time one claim statement took, and how many jobs it claimed. */
    public void claimed(Duration took, int jobs) {
        Timer.builder("sluice.claim.latency").description("Duration of one claim statement on the job queue")
                .publishPercentileHistogram(false).register(registry).record(took);
        if (jobs > 0) {
            Counter.builder("sluice.jobs.claimed").description("Jobs claimed by this instance's worker")
                    .register(registry).increment(jobs);
        }
    }

    /** A job whose previous lease expired (or was released) was claimed again. */
    public void leaseReclaimed() {
        leaseReclaims().increment();
    }

    /** This instance lost a lease (reason: RECLAIMED, CANCELLED or FINISHED). */
    public void leaseLost(String reason) {
        leaseLostCounter(reason).increment();
    }

    /** A job ended on this instance with the given final outcome (complete, error, cancelled, stopped). */
    public void jobEnded(String outcome) {
        Counter.builder("sluice.jobs.ended").description("Job runs ended on this instance, by outcome")
                .tag("outcome", outcome).register(registry).increment();
    }

    /** A part was finalized and recorded; {@code took} covers fsync, rename and the fenced record. */
    public void partRecorded(String kind, String resourceType, long resources, long bytes, Duration took) {
        Counter.builder("sluice.export.resources").description("Resources (lines) written to recorded export parts")
                .tag("kind", kind).tag("type", resourceType).register(registry).increment(resources);
        Counter.builder("sluice.export.bytes").description("Bytes written to recorded export parts")
                .baseUnit("bytes").tag("kind", kind).tag("type", resourceType).register(registry).increment(bytes);
        Timer.builder("sluice.part.finalize.latency").description("Finalize (fsync + rename) and fenced record of one part")
                .register(registry).record(took);
    }

    /** Resources stored by an NDJSON ingest, a transaction/batch or a single write. */
    public void ingested(String tenant, long resources) {
        if (resources > 0) {
            Counter.builder("sluice.ingest.resources").description("Resources stored (new versions), per tenant")
                    .tag("tenant", tenant).register(registry).increment(resources);
        }
    }
}
