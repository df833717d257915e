package io.sluice.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Export engine settings (prefix {@code sluice.export}). */
@ConfigMapping(prefix = "sluice.export")
public interface ExportConfig {

    /** How long files and rows of a finished job are kept before the cleanup loop deletes them. */
    @WithDefault("PT24H")
    Duration retention();

    /** Most accepted or in-progress jobs one tenant may have; more are refused with 429. */
    @WithDefault("10")
    int maxActiveJobsPerTenant();

    /** Most accepted or in-progress jobs one client (owner) may have when auth is on. */
    @WithDefault("5")
    int maxActiveJobsPerClient();

    /** Resources read from the database per batch (keyset page). */
    @WithDefault("2000")
    int batchSize();

    /**
     * Bytes per page: a page stops at this many bytes of rows (at least one row); a single resource
     * larger than this never travels in a page and is written in slices of a quarter of it. The
     * database client gathers a whole reply in one buffer, so pages over about 512 KiB make it a large
     * (G1 humongous) allocation per page.
     */
    @WithDefault("524288")
    long pageMaxBytes();

    /** A part is finalized when it holds this many resources. */
    @WithDefault("50000")
    int partMaxResources();

    /** A part is finalized when it reaches this many bytes. */
    @WithDefault("268435456")
    long partMaxBytes();

    /** Lease length of a claimed job; a holder that stops heartbeating loses the job after this. */
    @WithDefault("PT60S")
    Duration lease();

    /** How often a holder renews its lease (and checks for cancellation). */
    @WithDefault("PT20S")
    Duration heartbeat();

    /** Claims after which a job goes to error instead of being claimed again. */
    @WithDefault("5")
    int maxAttempts();

    /** Jobs this instance works on at once. */
    @WithDefault("2")
    int workerSlots();

    /**
     * Resource types of one job exported at the same time (each with its own page reads and parts), so
     * one type's part finalization (fsync, rename, record) overlaps another type's reads and writes.
     */
    @WithDefault("2")
    int parallelTypes();

    /** Directory of the local output store. */
    @WithDefault("./data/exports")
    String outputDir();

    /**
     * Group exports with {@code _since}: when true (default), patients that became members of the
     * Group after {@code _since} get all their data regardless of {@code _since} (the Bulk Data IG
     * allows this; a consumer syncing incrementally otherwise never sees their history). When
     * false, {@code _since} applies to every member alike.
     */
    @WithDefault("true")
    boolean groupNewMembersFullHistory();

    /** Transient failures (dropped connection, serialization failure) retried per job before it goes to error. */
    @WithDefault("4")
    int transientRetries();

    /** First backoff delay of transient-failure retries; doubles each time, capped at 30 times this. */
    @WithDefault("PT0.2S")
    java.time.Duration retryBaseDelay();

    /** Whether to count each type's snapshot size at job start (export_type_progress.total, X-Progress). */
    @WithDefault("true")
    boolean countTotals();
}
