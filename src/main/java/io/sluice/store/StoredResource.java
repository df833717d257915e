package io.sluice.store;

import io.vertx.mutiny.sqlclient.Row;

import java.time.Instant;

/**
 * One stored version of a resource.
 *
 * @param resourceType the type
 * @param id           the logical id
 * @param versionId    1, 2, ... per resource
 * @param lastUpdated  valid_from of the version (= meta.lastUpdated), microsecond precision
 * @param deleted      true for a tombstone
 * @param content      the exact minified JSON served for this version; null for tombstones
 */
public record StoredResource(String resourceType, String id, long versionId, Instant lastUpdated,
                             boolean deleted, String content) {

    /** Maps a row with columns resource_type, id, version_id, valid_from, deleted, content. */
    static StoredResource from(Row row) {
        return new StoredResource(row.getString("resource_type"), row.getString("id"),
                row.getLong("version_id"), row.getOffsetDateTime("valid_from").toInstant(),
                row.getBoolean("deleted"), row.getString("content"));
    }
}
