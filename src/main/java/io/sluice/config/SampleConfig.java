package io.sluice.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Built-in sample data (prefix {@code sluice.sample}). */
@ConfigMapping(prefix = "sluice.sample")
public interface SampleConfig {

    /** When to load sample patients into tenant {@code default} at start-up. */
    enum Load {
        /** Only on the embedded database, and only while tenant default is empty. */
        AUTO,
        /** Whenever tenant default is empty, also on an external database. */
        ALWAYS,
        /** Never. */
        NEVER
    }

    /** When to load the sample data set. */
    @WithDefault("auto")
    Load load();

    /** How many sample patients (about 60 resources each). */
    @WithDefault("50")
    int patients();

    /** Seed of the deterministic generator. */
    @WithDefault("20261127")
    long seed();
}
