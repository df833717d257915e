package io.sluice.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The embedded PostgreSQL default (prefix {@code sluice.embedded}); used only when no database URL is set. */
@ConfigMapping(prefix = "sluice.embedded")
public interface EmbeddedConfig {

    /** Data directory of the embedded server; it survives restarts. */
    @WithDefault("./data/postgres")
    String dataDir();

    /** Port of the embedded server; 0 picks a free one. */
    @WithDefault("0")
    int port();

    /** Set by the application when it started the embedded server (read-only in effect). */
    @WithDefault("false")
    boolean active();
}
