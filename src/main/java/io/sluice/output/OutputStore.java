package io.sluice.output;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.buffer.Buffer;

import java.util.UUID;

/**
 * Where export files go. A part is opened, written line by line, then either finalized (durable and
 * atomically visible under its location) or aborted. Implementations never hold a whole part in memory.
 */
public interface OutputStore {

    /** Opens a new part for writing. */
    Uni<PartWriter> open(PartKey key);

    /** Streams a finalized part from {@code offset} (inclusive), {@code length} bytes or to the end when negative. */
    Multi<Buffer> read(String location, long offset, long length);

    /** Size in bytes of a finalized part, or empty when it does not exist. */
    Uni<java.util.Optional<Long>> size(String location);

    /** Deletes every file of a job, finalized or not. */
    Uni<Void> deleteJob(String tenant, UUID jobId);

    /**
     * Deletes every file of a job whose location is not in {@code recordedLocations}: parts written
     * but never recorded (a crash between finalize and record) and leftover temporary files.
     */
    Uni<Void> deleteUnrecorded(String tenant, UUID jobId, java.util.Set<String> recordedLocations);

    /**
     * A URL clients may GET a finalized part from directly, without the server's token, valid for
     * at most {@code validFor} (e.g. a presigned S3 URL); empty when files are served by the API only.
     */
    default Uni<java.util.Optional<String>> publicUrl(String location, java.time.Duration validFor) {
        return Uni.createFrom().item(java.util.Optional.empty());
    }
}
