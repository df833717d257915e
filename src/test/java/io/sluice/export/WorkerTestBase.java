package io.sluice.export;

import io.sluice.job.ExportService;
import io.sluice.job.JobStore;
import io.sluice.output.OutputStore;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Builds workers for a test and stops them afterwards so they never claim another test's jobs. */
abstract class WorkerTestBase {

    @Inject
    ExportService service;
    @Inject
    ExportEngine engine;
    @Inject
    OutputStore output;
    @Inject
    JobStore jobs;

    private final List<ExportWorker> workers = new ArrayList<>();

    ExportWorker worker(String id, EngineSettings settings) {
        ExportWorker w = engine.newWorker(id + "-" + System.nanoTime(), settings);
        workers.add(w);
        return w;
    }

    ExportWorker worker(ExportEngine e, String id, EngineSettings settings) {
        ExportWorker w = e.newWorker(id + "-" + System.nanoTime(), settings);
        workers.add(w);
        return w;
    }

    /** Small parts and batches so every export spans several of each. */
    EngineSettings small() {
        return engine.settings().withParts(5, 4, 1 << 20).withLease(Duration.ofSeconds(30), Duration.ofSeconds(1));
    }

    @AfterEach
    void stopWorkers() throws Exception {
        for (ExportWorker w : workers) {
            w.shutdown().await().atMost(Duration.ofSeconds(15));
        }
        workers.clear();
        retireUnfinishedJobs();
    }

    /** Earlier tests' unfinished jobs must not be picked up by this test's workers. */
    @org.junit.jupiter.api.BeforeEach
    void retireUnfinishedJobs() throws Exception {
        EngineHarness.sql("UPDATE export_job SET status = 'cancelled', completed_at = now() "
                + "WHERE status IN ('accepted', 'in-progress')");
    }
}
