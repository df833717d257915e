package io.sluice.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Operator-side reads and writes on the job queue, across tenants and owners: the job counts behind
 * the {@code sluice_jobs} gauge, the dashboard's job list, and the admin cancel.
 */
@ApplicationScoped
public class JobAdminQueries {

    private static final TypeReference<List<AdminJob.File>> FILES = new TypeReference<>() {
    };

    private final Pool pool;
    private final ObjectMapper json;
    private final Clock clock;

    public JobAdminQueries(Pool pool, ObjectMapper json, Clock clock) {
        this.pool = pool;
        this.json = json;
        this.clock = clock;
    }

    /**
     * Jobs per tenant and status.
     *
     * @param exhausted of those, jobs that failed because every claim's lease expired (max attempts reached)
     */
    @RegisterForReflection
    public record StatusCount(String tenant, String status, long count, long exhausted) {
        static StatusCount from(Row r) {
            return new StatusCount(r.getString("tenant"), r.getString("status"), r.getLong("n"), r.getLong("exhausted"));
        }
    }

    /** One aggregate over export_job (uses the (tenant, status) index). */
    public Uni<List<StatusCount>> counts() {
        return pool.preparedQuery("""
                SELECT tenant, status, count(*) AS n,
                       count(*) FILTER (WHERE status = 'error' AND error_message LIKE 'export abandoned after %') AS exhausted
                FROM export_job GROUP BY tenant, status ORDER BY tenant, status
                """).execute().map(rows -> {
                    List<StatusCount> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(StatusCount.from(r));
                    }
                    return out;
                }).onFailure().transform(StoreErrors::translate);
    }

    /**
     * A job as the dashboard shows it.
     *
     * @param exported      resources written to recorded output parts so far
     * @param total         resources the snapshot holds for the job's output types, null when not counted
     * @param phases        phases planned (output, deleted, error per type); {@code phasesDone} of them finished
     * @param leaseExpiresAt when the holder's lease runs out unless renewed (null when not running)
     */
    @RegisterForReflection
    public record AdminJob(UUID id, String tenant, String status, String level, String groupId, String owner,
                           String requestUrl, Instant transactionTime, Instant createdAt, Instant startedAt,
                           Instant completedAt, int attempts, String workerId, long fencingToken,
                           Instant leaseExpiresAt, Instant heartbeatAt, String errorMessage, long exported, Long total,
                           long phases, long phasesDone, long fileCount, long bytes, List<File> files) {

        /** A recorded part file. */
        @RegisterForReflection
        public record File(String kind, String type, int index, long resources, long bytes) {
        }

        static AdminJob from(Row r, List<File> files) {
            return new AdminJob(r.getUUID("id"), r.getString("tenant"), r.getString("status"), r.getString("level"),
                    r.getString("group_id"), r.getString("owner"), r.getString("request_url"),
                    Sql.instant(r, "transaction_time"), Sql.instant(r, "created_at"), Sql.instant(r, "started_at"),
                    Sql.instant(r, "completed_at"), r.getInteger("attempts"), r.getString("worker_id"),
                    r.getLong("fencing_token"), Sql.instant(r, "lease_expires_at"), Sql.instant(r, "heartbeat_at"),
                    r.getString("error_message"), r.getLong("exported"), r.getLong("total"), r.getLong("phases"),
                    r.getLong("phases_done"), r.getLong("file_count"), r.getLong("bytes"), files);
        }
    }

    /** Newest jobs first, optionally of one tenant and/or status, at most {@code limit}. */
    public Uni<List<AdminJob>> jobs(String tenant, String status, int limit) {
        return pool.preparedQuery("""
                SELECT j.id, j.tenant, j.status, j.level, j.group_id, j.owner, j.request_url, j.transaction_time,
                       j.created_at, j.started_at, j.completed_at, j.attempts, j.worker_id, j.fencing_token,
                       j.lease_expires_at, j.heartbeat_at, j.error_message,
                       COALESCE(p.exported, 0) AS exported, p.total, COALESCE(p.phases, 0) AS phases,
                       COALESCE(p.phases_done, 0) AS phases_done,
                       COALESCE(f.file_count, 0) AS file_count, COALESCE(f.bytes, 0) AS bytes, f.files
                FROM export_job j
                LEFT JOIN LATERAL (
                    SELECT sum(exported) FILTER (WHERE kind = 'output') AS exported,
                           CASE WHEN count(*) FILTER (WHERE kind = 'output' AND total IS NULL) = 0
                                THEN sum(total) FILTER (WHERE kind = 'output') END AS total,
                           count(*) AS phases, count(*) FILTER (WHERE done) AS phases_done
                    FROM export_type_progress WHERE job_id = j.id) p ON true
                LEFT JOIN LATERAL (
                    SELECT count(*) AS file_count, sum(byte_count) AS bytes,
                           json_agg(json_build_object('kind', kind, 'type', resource_type, 'index', part_index,
                                                      'resources', resource_count, 'bytes', byte_count)
                                    ORDER BY kind, resource_type, part_index)::text AS files
                    FROM export_part WHERE job_id = j.id) f ON true
                WHERE ($1::text IS NULL OR j.tenant = $1) AND ($2::text IS NULL OR j.status = $2)
                ORDER BY j.created_at DESC, j.id
                LIMIT $3
                """).execute(Tuple.of(tenant, status, limit)).map(rows -> {
                    List<AdminJob> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(AdminJob.from(r, files(r.getString("files"))));
                    }
                    return out;
                }).onFailure().transform(StoreErrors::translate);
    }

    private List<AdminJob.File> files(String text) {
        if (text == null) {
            return List.of();
        }
        try {
            return json.readValue(text, FILES);
        } catch (JsonProcessingException e) {
            throw new JobStoreException("unreadable part list: " + e.getOriginalMessage(), e);
        }
    }

    /** Outcome of {@link #cancel}. */
    public enum AdminCancel { CANCELLED, ALREADY_FINISHED, NOT_FOUND }

    /**
     * Cancels an accepted or in-progress job of any tenant and owner (its worker stops through the
     * cancel NOTIFY and deletes the files); a finished job is left as it is.
     */
    public Uni<AdminCancel> cancel(UUID jobId) {
        return pool.preparedQuery("""
                WITH target AS (SELECT id, status FROM export_job WHERE id = $1),
                cancelled AS (
                    UPDATE export_job SET status = 'cancelled', completed_at = $2, lease_expires_at = NULL
                    WHERE id = $1 AND status IN ('accepted', 'in-progress')
                    RETURNING id, pg_notify('sluice_export_cancel', id::text))
                SELECT (SELECT count(*) FROM target) AS found, (SELECT count(*) FROM cancelled) AS cancelled
                """).execute(Tuple.of(jobId, Sql.ts(clock.instant()))).map(rows -> {
                    Row r = rows.iterator().next();
                    if (r.getLong("cancelled") > 0) {
                        return AdminCancel.CANCELLED;
                    }
                    return r.getLong("found") > 0 ? AdminCancel.ALREADY_FINISHED : AdminCancel.NOT_FOUND;
                }).onFailure().transform(StoreErrors::translate);
    }
}
