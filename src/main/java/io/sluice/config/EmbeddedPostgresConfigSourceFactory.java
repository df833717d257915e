package io.sluice.config;

import io.quarkus.runtime.ExecutionMode;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import org.eclipse.microprofile.config.spi.ConfigSource;

import java.util.List;
import java.util.Map;

/**
 * Starts the embedded PostgreSQL default when no database URL is configured.
 *
 * <p>Runs before datasources and Flyway read their configuration, and only at runtime start
 * (never during the Quarkus build, which would otherwise bake a throwaway URL into the app).
 * Setting {@code sluice.db.url} (env {@code SLUICE_DB_URL}) or
 * {@code quarkus.datasource.reactive.url} switches to an external server.
 */
public class EmbeddedPostgresConfigSourceFactory implements ConfigSourceFactory {

    /** Ordinal above application.properties so the embedded URL wins over the empty default. */
    private static final int ORDINAL = 275;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        if (ExecutionMode.current() != ExecutionMode.RUNTIME_INIT) {
            return List.of();
        }
        if (isSet(context, "sluice.db.url") || isSet(context, "quarkus.datasource.reactive.url")) {
            return List.of();
        }
        String dataDir = valueOr(context, "sluice.embedded.data-dir", "./data/postgres");
        int port = Integer.parseInt(valueOr(context, "sluice.embedded.port", "0"));
        EmbeddedPostgres.Started pg = EmbeddedPostgres.start(dataDir, port);
        return List.of(new PropertiesConfigSource(Map.of(
                "sluice.db.url", pg.url(),
                "sluice.db.username", "postgres",
                "sluice.db.password", "",
                "sluice.embedded.active", "true"), "embedded-postgres", ORDINAL));
    }

    private static boolean isSet(ConfigSourceContext context, String name) {
        ConfigValue v = context.getValue(name);
        return v != null && v.getValue() != null && !v.getValue().isBlank();
    }

    private static String valueOr(ConfigSourceContext context, String name, String fallback) {
        ConfigValue v = context.getValue(name);
        return v == null || v.getValue() == null || v.getValue().isBlank() ? fallback : v.getValue();
    }
}
