package io.sluice.output;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.buffer.Buffer;

/** An open part: write NDJSON bytes, then finalize or abort exactly once. */
public interface PartWriter {

    /**
     * Appends bytes: NDJSON lines, each ending in '\n', possibly split over several calls (a large
     * line and its newline come as two); the part's line count grows by {@code lineCount}.
     */
    Uni<Void> write(Buffer lines, long lineCount);

    /** Makes the part durable and visible under its location; returns what was written. */
    Uni<FinalizedPart> finalizePart();

    /** Discards the part; never visible afterwards. */
    Uni<Void> abort();
}
