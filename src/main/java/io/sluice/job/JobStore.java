package io.sluice.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.output.FinalizedPart;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * The durable job queue: claim with leases and fencing tokens, fenced worker writes, and the
 * lookups behind {@link ExportService}. Every worker write is conditioned on
 * {@code id + worker_id + fencing_token + status = 'in-progress'}; a write that matches no row
 * fails with {@link LeaseLostException}. Failures leave this class translated by {@link StoreErrors}.
 */
@ApplicationScoped
public class JobStore {

    /** Channel of the NOTIFY sent when a job is created. */
    public static final String CHANNEL = "sluice_export_jobs";

    /** Channel of the NOTIFY sent when a job is cancelled (payload: job id); its worker stops at once. */
    public static final String CANCEL_CHANNEL = "sluice_export_cancel";

    private static final String FENCE = """
            UPDATE export_job SET heartbeat_at = $4
            WHERE id = $1 AND worker_id = $2 AND fencing_token = $3 AND status = 'in-progress'
            RETURNING id
            """;

    private final Pool pool;
    private final ObjectMapper json;
    private final Clock clock;

    public JobStore(Pool pool, ObjectMapper json, Clock clock) {
        this.pool = pool;
        this.json = json;
        this.clock = clock;
    }

    /** The clock all lease times come from. */
    public Clock clock() {
        return clock;
    }

    private Instant now() {
        return clock.instant();
    }

    private static <T> Uni<T> translated(Uni<T> uni) {
        return uni.onFailure().transform(StoreErrors::translate);
    }

    // ---------------------------------------------------------------- claim and lease

    /**
     * Claims up to {@code max} jobs in one statement: the oldest {@code accepted} jobs or
     * {@code in-progress} jobs whose lease expired, skipping rows other claimers hold. Expired jobs
     * that already used {@code maxAttempts} claims go to {@code error} in the same statement.
     */
    public Uni<List<ClaimedJob>> claim(String workerId, int max, Duration lease, int maxAttempts) {
        if (max <= 0) {
            return Uni.createFrom().item(List.of());
        }
        Instant now = now();
        return translated(pool.preparedQuery("""
                WITH exhausted AS (
                    UPDATE export_job e
                    SET status = 'error', completed_at = $1, lease_expires_at = NULL,
                        error_message = 'export abandoned after ' || e.attempts
                            || ' attempts (sluice.export.max-attempts = ' || $4::int
                            || '): every worker that claimed it stopped renewing its lease'
                    WHERE e.id IN (SELECT x.id FROM export_job x
                                   WHERE x.status = 'in-progress' AND x.lease_expires_at <= $1
                                     AND x.attempts >= $4
                                   FOR UPDATE SKIP LOCKED)
                      AND e.status = 'in-progress'
                    RETURNING e.id
                ), candidate AS (
                    SELECT c.id FROM export_job c
                    WHERE (c.status = 'accepted' OR (c.status = 'in-progress' AND c.lease_expires_at <= $1))
                      AND c.attempts < $4
                    ORDER BY c.created_at, c.id
                    LIMIT $5
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE export_job j
                SET status = 'in-progress', worker_id = $3, lease_expires_at = $2,
                    fencing_token = j.fencing_token + 1, attempts = j.attempts + 1,
                    heartbeat_at = $1, started_at = COALESCE(j.started_at, $1)
                FROM candidate
                WHERE j.id = candidate.id
                RETURNING j.id, j.tenant, j.level, j.group_id, j.request::text AS request_json, j.transaction_time,
                          j.worker_id, j.fencing_token, j.attempts, j.lease_expires_at
                """).execute(Tuple.of(Sql.ts(now), Sql.ts(now.plus(lease)), workerId, maxAttempts, max))
                .map(rows -> {
                    List<ClaimedJob> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(ClaimedJob.from(r, json));
                    }
                    return out;
                }));
    }

    /** Renews the lease; fails with {@link LeaseLostException} (reason CANCELLED on cancel) when it is gone. */
    public Uni<Instant> heartbeat(Lease lease, Duration leaseLength) {
        Instant now = now();
        Instant expires = now.plus(leaseLength);
        return fenced(pool, lease, """
                UPDATE export_job SET heartbeat_at = $4, lease_expires_at = $5
                WHERE id = $1 AND worker_id = $2 AND fencing_token = $3 AND status = 'in-progress'
                RETURNING id
                """, Tuple.of(lease.jobId(), lease.workerId(), lease.fencingToken(), Sql.ts(now), Sql.ts(expires)))
                .replaceWith(expires);
    }

    /** Gives the lease up at once (graceful shutdown): another instance may claim the job immediately. */
    public Uni<Void> release(Lease lease) {
        return fenced(pool, lease, """
                UPDATE export_job SET lease_expires_at = $4
                WHERE id = $1 AND worker_id = $2 AND fencing_token = $3 AND status = 'in-progress'
                RETURNING id
                """, Tuple.of(lease.jobId(), lease.workerId(), lease.fencingToken(), Sql.ts(now())));
    }

    /** Marks the job complete; never overwrites a cancel (fenced on status in-progress). */
    public Uni<Void> complete(Lease lease) {
        return fenced(pool, lease, """
                UPDATE export_job SET status = 'complete', completed_at = $4, lease_expires_at = NULL
                WHERE id = $1 AND worker_id = $2 AND fencing_token = $3 AND status = 'in-progress'
                RETURNING id
                """, Tuple.of(lease.jobId(), lease.workerId(), lease.fencingToken(), Sql.ts(now())));
    }

    /** Marks the job failed with a message naming the cause. */
    public Uni<Void> fail(Lease lease, String message) {
        return fenced(pool, lease, """
                UPDATE export_job SET status = 'error', completed_at = $4, lease_expires_at = NULL, error_message = $5
                WHERE id = $1 AND worker_id = $2 AND fencing_token = $3 AND status = 'in-progress'
                RETURNING id
                """, Tuple.of(lease.jobId(), lease.workerId(), lease.fencingToken(), Sql.ts(now()), message));
    }

    // ---------------------------------------------------------------- progress and parts

    /** The committed per-phase resume state of a job. */
    public Uni<List<TypeProgressRow>> progress(UUID jobId) {
        return translated(pool.preparedQuery("""
                SELECT kind, resource_type, cursor_id, exported, total, next_part, done
                FROM export_type_progress WHERE job_id = $1 ORDER BY kind, resource_type
                """).execute(Tuple.of(jobId)).map(rows -> {
                    List<TypeProgressRow> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(TypeProgressRow.from(r));
                    }
                    return out;
                }));
    }

    /** Records the job's plan (one row per phase) once; rows that exist already are kept. Fenced. */
    public Uni<Void> initProgress(Lease lease, List<TypeProgressRow> plan) {
        return inFencedTransaction(lease, conn -> {
            if (plan.isEmpty()) {
                return Uni.createFrom().voidItem();
            }
            List<Tuple> batch = new ArrayList<>();
            for (TypeProgressRow p : plan) {
                batch.add(Tuple.of(lease.jobId(), p.kind(), p.resourceType(), p.total()));
            }
            return conn.preparedQuery("""
                    INSERT INTO export_type_progress (job_id, kind, resource_type, total)
                    VALUES ($1, $2, $3, $4)
                    ON CONFLICT (job_id, kind, resource_type) DO NOTHING
                    """).executeBatch(batch).replaceWithVoid();
        });
    }

    /**
     * In a fenced transaction: the totals of output phases that have none yet ({@code X-Progress}),
     * counted while the phases already run.
     */
    public Uni<Void> recordTotals(Lease lease, Map<String, Long> totals) {
        return inFencedTransaction(lease, conn -> conn.preparedQuery("""
                UPDATE export_type_progress AS p SET total = t.n
                  FROM unnest($2::text[], $3::int8[]) AS t(rt, n)
                 WHERE p.job_id = $1 AND p.kind = 'output' AND p.resource_type = t.rt AND p.total IS NULL
                """).execute(Tuple.of(lease.jobId(), totals.keySet().toArray(String[]::new),
                totals.values().toArray(Long[]::new))).replaceWithVoid());
    }

    /**
     * In ONE fenced transaction: records a finalized part and advances its phase to {@code cursorId}
     * with {@code exported} lines in total and the next part index; {@code done} ends the phase.
     * The part becomes visible exactly when the cursor moves past its last resource.
     */
    public Uni<Void> recordPart(Lease lease, FinalizedPart part, String cursorId, long exported, boolean done) {
        var key = part.key();
        return inFencedTransaction(lease, conn -> conn.preparedQuery("""
                        INSERT INTO export_part (job_id, kind, resource_type, part_index, location, resource_count,
                                                 byte_count, sha256, fencing_token, created_at)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                        """).execute(Tuple.from(List.of(lease.jobId(), key.kind(), key.resourceType(), key.partIndex(),
                        part.location(), part.resourceCount(), part.byteCount(), part.sha256(),
                        lease.fencingToken(), Sql.ts(now()))))
                .chain(() -> conn.preparedQuery("""
                        UPDATE export_type_progress
                        SET cursor_id = $4, exported = $5, next_part = $3 + 1, done = $6
                        WHERE job_id = $1 AND kind = $2 AND resource_type = $7 AND next_part = $3
                        """).execute(Tuple.from(java.util.Arrays.asList(lease.jobId(), key.kind(), key.partIndex(),
                        cursorId, exported, done, key.resourceType()))))
                .map(rows -> {
                    if (rows.rowCount() != 1) {
                        throw new JobStoreException("progress of " + key.kind() + "/" + key.resourceType()
                                + " is not at part " + key.partIndex() + " for job " + lease.jobId());
                    }
                    return null;
                }));
    }

    /** Ends a phase without a part (its remaining resources, if any, were all filtered out). Fenced. */
    public Uni<Void> markDone(Lease lease, String kind, String resourceType, String cursorId) {
        return inFencedTransaction(lease, conn -> conn.preparedQuery("""
                UPDATE export_type_progress SET done = true, cursor_id = COALESCE($4, cursor_id)
                WHERE job_id = $1 AND kind = $2 AND resource_type = $3
                """).execute(Tuple.of(lease.jobId(), kind, resourceType, cursorId)).replaceWithVoid());
    }

    /** Locations of all recorded parts of a job. */
    public Uni<Set<String>> recordedLocations(UUID jobId) {
        return translated(pool.preparedQuery("SELECT location FROM export_part WHERE job_id = $1")
                .execute(Tuple.of(jobId)).map(rows -> {
                    Set<String> out = new HashSet<>();
                    for (Row r : rows) {
                        out.add(r.getString("location"));
                    }
                    return out;
                }));
    }

    /** Current status of a job, empty when its row is gone. */
    public Uni<Optional<JobStatus>> status(UUID jobId) {
        return translated(pool.preparedQuery("SELECT status FROM export_job WHERE id = $1").execute(Tuple.of(jobId))
                .map(rows -> rows.size() == 0 ? Optional.<JobStatus>empty()
                        : Optional.of(JobStatus.fromWire(rows.iterator().next().getString("status")))));
    }

    // ---------------------------------------------------------------- service side

    /**
     * Inserts an accepted job under the per-tenant snapshot lock (see docs/architecture.md): takes
     * {@code pg_advisory_xact_lock}, fixes {@code transaction_time = clock_timestamp()}, waits until
     * the clock has passed it, notifies the workers and commits.
     */
    public Uni<UUID> insertJob(NewExportJob job) {
        UUID id = UUID.randomUUID();
        String requestJson;
        try {
            requestJson = json.writeValueAsString(job.request());
        } catch (JsonProcessingException e) {
            return Uni.createFrom().failure(new JobStoreException("request not serializable: " + e.getOriginalMessage(), e));
        }
        Instant now = now();
        return translated(pool.withTransaction(conn -> conn.preparedQuery(
                        "SELECT pg_advisory_xact_lock(hashtext('sluice-snapshot:' || $1))").execute(Tuple.of(job.tenant()))
                .chain(() -> conn.preparedQuery("""
                        INSERT INTO export_job (id, tenant, status, level, group_id, request, request_url, owner,
                                                transaction_time, created_at)
                        VALUES ($1, $2, 'accepted', $3, $4, $5::text::jsonb, $6, $7, clock_timestamp(), $8)
                        RETURNING transaction_time
                        """).execute(Tuple.from(java.util.Arrays.asList(id, job.tenant(), job.level().wire(), job.groupId(),
                        requestJson, job.requestUrl(), job.owner() == null ? "" : job.owner(), Sql.ts(now)))))
                .chain(rows -> waitPast(conn, rows.iterator().next().getOffsetDateTime("transaction_time")))
                .chain(() -> conn.preparedQuery("SELECT pg_notify('" + CHANNEL + "', $1)").execute(Tuple.of(id.toString())))
                .replaceWith(id)));
    }

    private Uni<Void> waitPast(SqlConnection conn, java.time.OffsetDateTime t) {
        return conn.preparedQuery("SELECT clock_timestamp() > $1 AS passed").execute(Tuple.of(t))
                .chain(rows -> rows.iterator().next().getBoolean("passed") ? Uni.createFrom().voidItem() : waitPast(conn, t));
    }

    /** Row, progress and parts of a job, scoped by tenant and owner. */
    public Uni<Optional<ExportJobView>> find(String tenant, UUID jobId, String owner) {
        return translated(pool.preparedQuery("""
                SELECT id, tenant, status, level, group_id, request::text AS request_json, request_url, owner,
                       transaction_time, created_at, started_at, completed_at, error_message, attempts
                FROM export_job WHERE tenant = $1 AND id = $2 AND owner = $3
                """).execute(Tuple.of(tenant, jobId, owner == null ? "" : owner)).chain(rows -> {
            if (rows.size() == 0) {
                return Uni.createFrom().item(Optional.<ExportJobView>empty());
            }
            Row job = rows.iterator().next();
            Uni<RowSet<Row>> progress = pool.preparedQuery("""
                    SELECT resource_type, exported, total, done FROM export_type_progress
                    WHERE job_id = $1 AND kind = 'output' ORDER BY resource_type
                    """).execute(Tuple.of(jobId));
            Uni<RowSet<Row>> parts = pool.preparedQuery("""
                    SELECT kind, resource_type, part_index, location, resource_count, byte_count, sha256
                    FROM export_part WHERE job_id = $1 ORDER BY kind, resource_type, part_index
                    """).execute(Tuple.of(jobId));
            return Uni.combine().all().unis(progress, parts).asTuple().map(t -> Optional.of(view(job, t.getItem1(), t.getItem2())));
        }));
    }

    private ExportJobView view(Row job, RowSet<Row> progressRows, RowSet<Row> partRows) {
        List<ExportJobView.TypeProgress> progress = new ArrayList<>();
        for (Row r : progressRows) {
            progress.add(new ExportJobView.TypeProgress(r.getString("resource_type"), r.getLong("exported"),
                    r.getLong("total"), r.getBoolean("done")));
        }
        List<ExportJobView.Part> parts = new ArrayList<>();
        for (Row r : partRows) {
            parts.add(new ExportJobView.Part(r.getString("kind"), r.getString("resource_type"), r.getInteger("part_index"),
                    r.getString("location"), r.getLong("resource_count"), r.getLong("byte_count"), r.getString("sha256")));
        }
        ExportRequest request;
        try {
            request = json.readValue(job.getString("request_json"), ExportRequest.class);
        } catch (JsonProcessingException e) {
            throw new JobStoreException("unreadable request of job " + job.getUUID("id"), e);
        }
        return new ExportJobView(job.getUUID("id"), job.getString("tenant"), JobStatus.fromWire(job.getString("status")),
                ExportLevel.fromWire(job.getString("level")), job.getString("group_id"), request,
                job.getString("request_url"), job.getString("owner"), Sql.instant(job, "transaction_time"),
                Sql.instant(job, "created_at"), Sql.instant(job, "started_at"), Sql.instant(job, "completed_at"),
                job.getString("error_message"), job.getInteger("attempts"), List.copyOf(progress), List.copyOf(parts));
    }

    /** Outcome of {@link #cancel}. */
    public enum CancelOutcome { CANCELLED, DELETED_FINISHED, NOT_FOUND }

    /**
     * Cancels an accepted or in-progress job (status cancelled; fenced writes of its worker fail from
     * now on), or deletes the row of a complete or failed job. A cancelled job is left as it is.
     */
    public Uni<CancelOutcome> cancel(String tenant, UUID jobId, String owner) {
        String o = owner == null ? "" : owner;
        return translated(pool.preparedQuery("""
                UPDATE export_job SET status = 'cancelled', completed_at = $4, lease_expires_at = NULL
                WHERE tenant = $1 AND id = $2 AND owner = $3 AND status IN ('accepted', 'in-progress')
                RETURNING id, pg_notify('sluice_export_cancel', id::text)
                """).execute(Tuple.of(tenant, jobId, o, Sql.ts(now()))).chain(rows -> rows.rowCount() > 0
                ? Uni.createFrom().item(CancelOutcome.CANCELLED)
                : pool.preparedQuery("""
                        DELETE FROM export_job
                        WHERE tenant = $1 AND id = $2 AND owner = $3 AND status IN ('complete', 'error')
                        RETURNING id
                        """).execute(Tuple.of(tenant, jobId, o))
                .map(deleted -> deleted.rowCount() > 0 ? CancelOutcome.DELETED_FINISHED : CancelOutcome.NOT_FOUND)));
    }

    /** Accepted or in-progress jobs of a tenant, and of one owner when owner is non-null. */
    public Uni<Long> countActive(String tenant, String owner) {
        return translated(pool.preparedQuery("""
                SELECT count(*) AS n FROM export_job
                WHERE tenant = $1 AND status IN ('accepted', 'in-progress') AND ($2::text IS NULL OR owner = $2)
                """).execute(Tuple.of(tenant, owner)).map(rows -> rows.iterator().next().getLong("n")));
    }

    /** A finished job past retention. */
    public record Expired(UUID id, String tenant) {
    }

    /** Finished (complete, error, cancelled) jobs whose completed_at is before {@code cutoff}. */
    public Uni<List<Expired>> expired(Instant cutoff, int limit) {
        return translated(pool.preparedQuery("""
                SELECT id, tenant FROM export_job
                WHERE status IN ('complete', 'error', 'cancelled') AND completed_at < $1
                ORDER BY completed_at LIMIT $2
                """).execute(Tuple.of(Sql.ts(cutoff), limit)).map(rows -> {
                    List<Expired> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(new Expired(r.getUUID("id"), r.getString("tenant")));
                    }
                    return out;
                }));
    }

    /** Deletes the rows (with progress and parts) of finished jobs past retention; never a running one. */
    public Uni<Integer> deleteExpired(UUID jobId, Instant cutoff) {
        return translated(pool.preparedQuery("""
                DELETE FROM export_job
                WHERE id = $1 AND status IN ('complete', 'error', 'cancelled') AND completed_at < $2
                """).execute(Tuple.of(jobId, Sql.ts(cutoff))).map(RowSet::rowCount));
    }

    // ---------------------------------------------------------------- fencing

    private Uni<Void> fenced(Pool p, Lease lease, String sql, Tuple args) {
        return translated(p.preparedQuery(sql).execute(args).chain(rows -> rows.rowCount() == 1
                ? Uni.createFrom().voidItem()
                : lost(p, lease)));
    }

    private <T> Uni<T> inFencedTransaction(Lease lease, Function<SqlConnection, Uni<T>> work) {
        return translated(pool.withTransaction(conn -> conn.preparedQuery(FENCE)
                .execute(Tuple.of(lease.jobId(), lease.workerId(), lease.fencingToken(), Sql.ts(now())))
                .chain(rows -> rows.rowCount() == 1 ? work.apply(conn) : lost(conn, lease))));
    }

    /**
     * Why a fenced write found no row of its lease: the job's status says whether it finished, was
     * cancelled or went to another worker. Asked on {@code client}, the fenced write's own connection
     * when it runs in a transaction, so the answer never waits for a second connection.
     */
    private <T> Uni<T> lost(SqlClient client, Lease lease) {
        return client.preparedQuery("SELECT status FROM export_job WHERE id = $1").execute(Tuple.of(lease.jobId()))
                .onFailure().recoverWithItem((RowSet<Row>) null)
                .chain(rows -> {
                    LeaseLostException.Reason reason;
                    if (rows == null) {
                        reason = LeaseLostException.Reason.RECLAIMED;
                    } else if (rows.size() == 0) {
                        reason = LeaseLostException.Reason.FINISHED;
                    } else {
                        JobStatus s = JobStatus.fromWire(rows.iterator().next().getString("status"));
                        reason = s == JobStatus.CANCELLED ? LeaseLostException.Reason.CANCELLED
                                : s.isFinal() ? LeaseLostException.Reason.FINISHED : LeaseLostException.Reason.RECLAIMED;
                    }
                    return Uni.createFrom().failure(new LeaseLostException(lease.jobId(), reason));
                });
    }
}
