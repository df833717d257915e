package io.sluice.ops;

import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.quarkus.scheduler.Scheduled;
import io.sluice.job.JobAdminQueries;
import io.sluice.job.JobStatus;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code sluice_jobs{tenant,status}} and {@code sluice_jobs_attempts_exhausted{tenant}} gauges:
 * cluster-wide job counts, refreshed from the database every {@code sluice.ops.job-gauge-refresh}
 * with one aggregate query (not on scrape, so scrapes never touch the database). A tenant seen once
 * keeps reporting 0 for statuses it no longer has.
 */
@ApplicationScoped
public class JobGauges {

    private static final Logger LOG = Logger.getLogger(JobGauges.class);

    private final JobAdminQueries queries;
    private final MultiGauge jobs;
    private final MultiGauge exhausted;
    private final Set<String> tenants = new TreeSet<>();

    public JobGauges(JobAdminQueries queries, SluiceMetrics metrics) {
        this.queries = queries;
        this.jobs = MultiGauge.builder("sluice.jobs").description("Export jobs in the database, by tenant and status")
                .register(metrics.registry());
        this.exhausted = MultiGauge.builder("sluice.jobs.attempts.exhausted")
                .description("Failed jobs (still retained) whose every claim's lease expired: sluice.export.max-attempts reached")
                .register(metrics.registry());
    }

    /** Reads the counts and replaces the gauge rows. */
    public Uni<Void> refresh() {
        return queries.counts().invoke(counts -> {
            Map<String, Map<String, Long>> byTenant = new HashMap<>();
            Map<String, Long> exhaustedByTenant = new HashMap<>();
            for (JobAdminQueries.StatusCount c : counts) {
                byTenant.computeIfAbsent(c.tenant(), t -> new HashMap<>()).put(c.status(), c.count());
                exhaustedByTenant.merge(c.tenant(), c.exhausted(), Long::sum);
            }
            List<MultiGauge.Row<?>> rows = new ArrayList<>();
            List<MultiGauge.Row<?>> exhaustedRows = new ArrayList<>();
            synchronized (tenants) {
                tenants.addAll(byTenant.keySet());
                for (String tenant : tenants) {
                    Map<String, Long> m = byTenant.getOrDefault(tenant, Map.of());
                    for (JobStatus s : JobStatus.values()) {
                        rows.add(MultiGauge.Row.of(Tags.of("tenant", tenant, "status", s.wire()), m.getOrDefault(s.wire(), 0L)));
                    }
                    exhaustedRows.add(MultiGauge.Row.of(Tags.of("tenant", tenant), exhaustedByTenant.getOrDefault(tenant, 0L)));
                }
            }
            jobs.register(rows, true);
            exhausted.register(exhaustedRows, true);
        }).replaceWithVoid();
    }

    @Scheduled(every = "${sluice.ops.job-gauge-refresh:15s}", delayed = "2s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduledRefresh() {
        return refresh().onFailure().invoke(e -> LOG.debugf("job gauge refresh failed: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }
}
