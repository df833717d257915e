package io.sluice.store;

import io.quarkus.runtime.annotations.RegisterForReflection;

import java.util.List;
import java.util.Map;

/**
 * Outcome of a bulk NDJSON ingest.
 *
 * @param lines         lines read (including blank lines, which are skipped)
 * @param stored        resources written (each a new version)
 * @param storedByType  resources written per resource type, sorted by type
 * @param rejected      number of rejected lines
 * @param rejectedLines the first rejected lines with their 1-based line number and reason (capped, see
 *                      {@code sluice.store.ingest-max-reported-errors})
 */
@RegisterForReflection
public record IngestReport(long lines, long stored, Map<String, Long> storedByType, long rejected,
                           List<RejectedLine> rejectedLines) {

    /** A line that was not stored. */
    @RegisterForReflection
    public record RejectedLine(long line, String reason) {
    }
}
