package io.sluice.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.mutiny.sqlclient.Row;

import java.time.Instant;

/** A job as the worker sees it right after claiming it. */
public record ClaimedJob(Lease lease, String tenant, ExportLevel level, String groupId, ExportRequest request,
                         Instant transactionTime, int attempts, Instant leaseExpiresAt) {

    static ClaimedJob from(Row row, ObjectMapper json) {
        try {
            return new ClaimedJob(
                    new Lease(row.getUUID("id"), row.getString("worker_id"), row.getLong("fencing_token")),
                    row.getString("tenant"),
                    ExportLevel.fromWire(row.getString("level")),
                    row.getString("group_id"),
                    json.readValue(row.getString("request_json"), ExportRequest.class),
                    Sql.instant(row, "transaction_time"),
                    row.getInteger("attempts"),
                    Sql.instant(row, "lease_expires_at"));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new JobStoreException("unreadable request of job " + row.getUUID("id") + ": " + e.getOriginalMessage(), e);
        }
    }
}
