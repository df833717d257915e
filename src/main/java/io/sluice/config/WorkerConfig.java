package io.sluice.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.Optional;

/** Settings of this instance's export worker (prefix {@code sluice.worker}). */
@ConfigMapping(prefix = "sluice.worker")
public interface WorkerConfig {

    /**
     * Whether this instance claims and runs export jobs (scheduled tick, LISTEN/NOTIFY wake-ups,
     * wake on local create). Off makes the instance API-only; engine tests switch it off and drive
     * {@code ExportWorker.runOnce()} themselves.
     */
    @WithDefault("true")
    boolean enabled();

    /** Safety-net interval of the claim tick (a Quarkus {@code every} expression, e.g. {@code 5s}). */
    @WithDefault("5s")
    String tick();

    /** Interval of the retention cleanup loop. */
    @WithDefault("5m")
    String cleanupEvery();

    /** This instance's worker id; a random one (host name + UUID) when absent. */
    Optional<String> id();
}
