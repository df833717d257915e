package io.sluice.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.config.ExportConfig;
import io.sluice.job.JobStore;
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
    private final Instance<TypeFilterFactory> typeFilters;
    private final ExportConfig config;

    public ExportEngine(JobStore jobs, SnapshotQueries snapshots, OutputStore output, ObjectMapper json, Vertx vertx,
                        Instance<TypeFilterFactory> typeFilters, ExportConfig config) {
        this.jobs = jobs;
        this.snapshots = snapshots;
        this.output = output;
        this.json = json;
        this.vertx = vertx;
        this.typeFilters = typeFilters;
        this.config = config;
    }

    /** The settings from configuration. */
    public EngineSettings settings() {
        return EngineSettings.from(config);
    }

    /** The {@code _typeFilter} compiler, when a bean is resolvable. */
    Optional<TypeFilterFactory> typeFilterFactory() {
        return typeFilters.isResolvable() ? Optional.of(typeFilters.get()) : Optional.empty();
    }

    /** A new worker with its own id; it claims nothing until {@link ExportWorker#runOnce()} or {@link ExportWorker#wake()}. */
    public ExportWorker newWorker(String workerId, EngineSettings settings) {
        return new ExportWorker(this, workerId, settings);
    }
}
