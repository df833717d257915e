package io.sluice.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.config.ExportConfig;
import io.sluice.job.JobStore;
import io.sluice.ops.SluiceMetrics;
import io.sluice.output.OutputStore;
import io.sluice.store.SnapshotQueries;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;

import java.util.Optional;

/** Everything a worker needs, as one bean; {@link #newWorker} builds workers (one per instance, or several in tests). */
@ApplicationScoped
public class ExportEngine {

    final JobStore jobs;
    final SnapshotQueries snapshots;
    final OutputStore output;
    final ObjectMapper json;
    final Vertx vertx;
    final SluiceMetrics metrics;
    private final Instance<TypeFilterFactory> typeFilters;
    private final ExportConfig config;
    private final Optional<Optional<TypeFilterFactory>> typeFilterOverride;

    @jakarta.inject.Inject
    public ExportEngine(JobStore jobs, SnapshotQueries snapshots, OutputStore output, ObjectMapper json, Vertx vertx,
                        Instance<TypeFilterFactory> typeFilters, ExportConfig config, SluiceMetrics metrics) {
        this.jobs = jobs;
        this.snapshots = snapshots;
        this.output = output;
        this.json = json;
        this.vertx = vertx;
        this.metrics = metrics;
        this.typeFilters = typeFilters;
        this.config = config;
        this.typeFilterOverride = Optional.empty();
    }

    private ExportEngine(ExportEngine base, Optional<TypeFilterFactory> override) {
        this.jobs = base.jobs;
        this.snapshots = base.snapshots;
        this.output = base.output;
        this.json = base.json;
        this.vertx = base.vertx;
        this.metrics = base.metrics;
        this.typeFilters = base.typeFilters;
        this.config = base.config;
        this.typeFilterOverride = Optional.of(override);
    }

    /** A copy that uses {@code factory} (null: none) instead of the CDI-resolved {@link TypeFilterFactory}; for tests. */
    public ExportEngine withTypeFilterFactory(TypeFilterFactory factory) {
        return new ExportEngine(this, Optional.ofNullable(factory));
    }

    /** The settings from configuration. */
    public EngineSettings settings() {
        return EngineSettings.from(config);
    }

    /** The {@code _typeFilter} compiler, when a bean is resolvable. */
    Optional<TypeFilterFactory> typeFilterFactory() {
        if (typeFilterOverride.isPresent()) {
            return typeFilterOverride.get();
        }
        return typeFilters.isResolvable() ? Optional.of(typeFilters.get()) : Optional.empty();
    }

    /** A new worker with its own id; it claims nothing until {@link ExportWorker#runOnce()} or {@link ExportWorker#wake()}. */
    public ExportWorker newWorker(String workerId, EngineSettings settings) {
        return new ExportWorker(this, workerId, settings);
    }
}
