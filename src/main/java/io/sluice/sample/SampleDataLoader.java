package io.sluice.sample;

import io.quarkus.runtime.StartupEvent;
import io.sluice.config.EmbeddedConfig;
import io.sluice.config.SampleConfig;
import io.sluice.store.IngestLine;
import io.sluice.store.IngestReport;
import io.sluice.store.ResourceStore;
import io.sluice.store.TenantStats;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Duration;

/**
 * Loads the built-in sample data set into tenant {@code default} at start-up, when
 * {@code sluice.sample.load} says so and the tenant is still empty (so a restart never loads twice).
 */
@ApplicationScoped
public class SampleDataLoader {

    /** Tenant the sample goes into. */
    public static final String TENANT = "default";

    private static final Logger LOG = Logger.getLogger(SampleDataLoader.class);

    private final SampleConfig config;
    private final EmbeddedConfig embedded;
    private final TenantStats stats;
    private final ResourceStore store;

    public SampleDataLoader(SampleConfig config, EmbeddedConfig embedded, TenantStats stats, ResourceStore store) {
        this.config = config;
        this.embedded = embedded;
        this.stats = stats;
        this.store = store;
    }

    void onStart(@Observes StartupEvent event) {
        if (!wanted()) {
            return;
        }
        // Loading takes a second or two; it must not hold up start-up, and a failure only logs.
        loadIfEmpty(TENANT).subscribe().with(
                report -> {
                    if (report != null) {
                        LOG.infof("Loaded sample data into tenant %s: %d resources %s", TENANT, report.stored(),
                                report.storedByType());
                    }
                },
                failure -> LOG.errorf(failure, "Could not load the sample data"));
    }

    /** Whether this start-up should load the sample, by {@code sluice.sample.load}. */
    boolean wanted() {
        return switch (config.load()) {
            case NEVER -> false;
            case ALWAYS -> true;
            case AUTO -> embedded.active();
        };
    }

    /** Loads the sample when the tenant is empty; emits the report, or null when it was not empty. */
    public Uni<IngestReport> loadIfEmpty(String tenant) {
        return stats.isEmpty(tenant).chain(empty -> {
            if (!empty) {
                LOG.infof("Tenant %s already has data: sample not loaded", tenant);
                return Uni.createFrom().nullItem();
            }
            SampleDataGenerator generator = new SampleDataGenerator(config.seed(), config.patients());
            return store.ingest(tenant, Multi.createFrom().iterable(generator.lines()).map(IngestLine::of));
        }).ifNoItem().after(Duration.ofMinutes(5)).fail();
    }
}
