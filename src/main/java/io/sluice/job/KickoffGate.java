package io.sluice.job;

import io.smallrye.mutiny.Uni;
import io.sluice.config.ExportConfig;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Creates export jobs while enforcing the active-job limits per tenant and per client, also under
 * concurrent kick-offs and across instances.
 *
 * <p>The count and the creation run while this instance holds the transaction-scoped advisory lock
 * {@code hashtext('sluice-kickoff:' || tenant)} on one connection; {@link ExportService#create} commits
 * the new job (on its own connection) before the lock is released, so the next kick-off of the tenant
 * counts it. Kick-offs of this instance are also queued in-process, so waiting for the lock never
 * holds more than one pooled connection (no pool starvation). The lock is distinct from the snapshot
 * lock, so resource writes are never blocked by it.
 */
@ApplicationScoped
public class KickoffGate {

    private static final String LOCK = "SELECT pg_advisory_xact_lock(hashtext('sluice-kickoff:' || $1))";

    private static final String COUNT_ACTIVE = """
            SELECT count(*) AS tenant_active,
                   count(*) FILTER (WHERE owner = $2) AS owner_active
            FROM export_job
            WHERE tenant = $1 AND status IN ('accepted', 'in-progress')
            """;

    /** Active-job counts of a tenant and of one owner. */
    record ActiveCounts(long tenant, long owner) {
        static ActiveCounts from(Row row) {
            return new ActiveCounts(row.getLong("tenant_active"), row.getLong("owner_active"));
        }
    }

    private final Pool pool;
    private final ExportService service;
    private final ExportConfig config;
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);

    public KickoffGate(Pool pool, ExportService service, ExportConfig config) {
        this.pool = pool;
        this.service = service;
        this.config = config;
    }

    /**
     * Creates the job unless the tenant has {@code maxActiveJobsPerTenant} accepted/in-progress jobs,
     * or the (non-empty) owner has {@code maxActiveJobsPerClient}.
     *
     * @throws TooManyJobsException (as the Uni's failure) when a limit is reached
     */
    public Uni<ExportJobView> create(NewExportJob job) {
        return serialized(() -> pool.withTransaction(conn -> conn.preparedQuery(LOCK).execute(Tuple.of(job.tenant()))
                .chain(() -> conn.preparedQuery(COUNT_ACTIVE).execute(Tuple.of(job.tenant(), job.owner())))
                .map(rows -> ActiveCounts.from(rows.iterator().next()))
                .chain(counts -> {
                    if (counts.tenant() >= config.maxActiveJobsPerTenant()) {
                        return Uni.createFrom().failure(new TooManyJobsException("tenant '" + job.tenant() + "' already has "
                                + counts.tenant() + " active export jobs (limit " + config.maxActiveJobsPerTenant()
                                + "); retry when one has finished"));
                    }
                    if (!job.owner().isEmpty() && counts.owner() >= config.maxActiveJobsPerClient()) {
                        return Uni.createFrom().failure(new TooManyJobsException("client '" + job.owner() + "' already has "
                                + counts.owner() + " active export jobs (limit " + config.maxActiveJobsPerClient()
                                + "); retry when one has finished"));
                    }
                    return service.create(job);
                })));
    }

    /** Runs kick-offs of this instance one after another. */
    private <T> Uni<T> serialized(Supplier<Uni<T>> work) {
        CompletableFuture<Void> previous;
        CompletableFuture<Void> mine = new CompletableFuture<>();
        synchronized (this) {
            previous = tail;
            tail = mine;
        }
        return Uni.createFrom().completionStage(previous)
                .chain(work::get)
                .onTermination().invoke(() -> mine.complete(null));
    }
}
