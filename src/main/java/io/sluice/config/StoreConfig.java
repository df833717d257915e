package io.sluice.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Resource store and FHIR REST settings (prefix {@code sluice.store}). */
@ConfigMapping(prefix = "sluice.store")
public interface StoreConfig {

    /** Most resources written per statement batch (and per transaction) during a bulk ingest. */
    @WithDefault("2000")
    int ingestBatchRows();

    /**
     * A bulk ingest batch is written once its resources reach this many bytes of JSON (smaller batches of
     * large resources keep parsing and writing overlapped: 2 MiB ingested the sample faster than 1 or 8).
     */
    @WithDefault("2097152")
    long ingestBatchBytes();

    /** Batches of one bulk ingest written at the same time, each in its own transaction and connection. */
    @WithDefault("2")
    int ingestParallelBatches();

    /** Longest NDJSON line accepted by $ingest, in bytes, capped at a 16th of the heap; longer lines are rejected (and reported). */
    @WithDefault("33554432")
    int ingestMaxLineBytes();

    /** At most this many rejected lines are listed individually in an ingest report (all are counted). */
    @WithDefault("1000")
    int ingestMaxReportedErrors();

    /** Largest request body of a create, update or Bundle, in bytes, capped at a 16th of the heap; larger gets 413 ($ingest streams). */
    @WithDefault("67108864")
    long maxBodyBytes();

    /** An $ingest that stored at least this many resources refreshes the planner statistics (ANALYZE) at its end. */
    @WithDefault("5000")
    long analyzeAfterIngestRows();
}
