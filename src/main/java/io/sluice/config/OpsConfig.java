package io.sluice.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Operations settings: metrics refresh and the admin dashboard ({@code sluice.ops.*}). */
@ConfigMapping(prefix = "sluice.ops")
public interface OpsConfig {

    /** How often the job-count gauges ({@code sluice_jobs}) are refreshed from the database. */
    @WithDefault("15s")
    Duration jobGaugeRefresh();

    /** Maximum number of jobs the admin dashboard lists per request. */
    @WithDefault("200")
    int adminMaxJobs();
}
