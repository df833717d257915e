package io.sluice.job;

import io.vertx.mutiny.sqlclient.Row;

/**
 * Committed resume state of one phase of a job.
 *
 * @param kind     output, deleted or error
 * @param cursorId last id covered by a recorded part (keyset cursor); null = from the start
 * @param exported resources (lines) in recorded parts
 * @param total    snapshot size when counted, else null
 * @param nextPart index of the next part to write
 */
public record TypeProgressRow(String kind, String resourceType, String cursorId, long exported, Long total,
                              int nextPart, boolean done) {

    static TypeProgressRow from(Row row) {
        return new TypeProgressRow(row.getString("kind"), row.getString("resource_type"), row.getString("cursor_id"),
                row.getLong("exported"), row.getLong("total"), row.getInteger("next_part"), row.getBoolean("done"));
    }

    /** A fresh phase. */
    public static TypeProgressRow start(String kind, String resourceType, Long total) {
        return new TypeProgressRow(kind, resourceType, null, 0, total, 0, false);
    }
}
