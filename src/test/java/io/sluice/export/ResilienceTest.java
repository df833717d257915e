package io.sluice.export;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.sluice.job.ClaimedJob;
import io.sluice.job.ExportJobView;
import io.sluice.job.ExportLevel;
import io.sluice.job.ExportRequest;
import io.sluice.output.FinalizedPart;
import io.sluice.support.EngineProfile;
import io.sluice.support.PostgresTestResource;
import io.sluice.support.ResourceFixture;
import io.sluice.support.ResourceFixture.Spec;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.sluice.export.EngineHarness.*;
import static io.sluice.support.ResourceFixture.body;
import static io.sluice.support.ResourceFixture.subject;
import static org.junit.jupiter.api.Assertions.*;

/** Crashes, lease loss, connection loss, cancellation, shutdown, concurrent writers and claim races. */
@QuarkusTest
@TestProfile(EngineProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class ResilienceTest extends WorkerTestBase {

    private static final Duration T = Duration.ofSeconds(60);

    private static void populate(String tenant, int patients) throws Exception {
        try (var fx = new ResourceFixture(tenant)) {
            List<Spec> specs = new ArrayList<>();
            for (int i = 0; i < patients; i++) {
                String p = String.format("p%04d", i);
                specs.add(new Spec("Patient", p, body("gender", i % 2 == 0 ? "female" : "male"), List.of()));
                specs.add(new Spec("Observation", "o" + p, subject(p, "status", "final"), List.of(p)));
            }
            fx.putAll(specs);
        }
    }

    /** Every recorded output line equals the snapshot exactly once, and only recorded files remain. */
    private void assertExactlyOnce(String tenant, UUID jobId) throws Exception {
        ExportJobView v = view(service, tenant, jobId);
        assertEquals(snapshot(tenant, v.transactionTime()), keys(lines(output, v, "output")));
        Set<String> recorded = new HashSet<>();
        v.parts().forEach(p -> recorded.add(Path.of(p.location()).getFileName().toString()));
        Path dir = Path.of(EngineProfile.OUTPUT_DIR, tenant, jobId.toString());
        Set<String> files = new HashSet<>();
        try (var s = Files.list(dir)) {
            s.forEach(f -> files.add(f.getFileName().toString()));
        }
        assertEquals(recorded, files, "only recorded parts remain in the job directory");
        // part indexes are contiguous per (kind, type)
        v.parts().stream().map(p -> p.kind() + "/" + p.resourceType()).distinct().forEach(k -> {
            List<Integer> idx = v.parts().stream().filter(p -> (p.kind() + "/" + p.resourceType()).equals(k))
                    .map(ExportJobView.Part::partIndex).toList();
            for (int i = 0; i < idx.size(); i++) {
                assertEquals(i, idx.get(i), "part indexes of " + k);
            }
        });
    }

    private static void expireLease(UUID jobId) throws Exception {
        sql("UPDATE export_job SET lease_expires_at = now() - interval '1 second' WHERE id = ? AND status = 'in-progress'", jobId);
    }

    /** Halts the worker (a crash) when it has finalized its n-th part, before recording it. */
    private static ExportWorker.Hooks crashAtPart(ExportWorker w, int n, AtomicBoolean crashed) {
        AtomicInteger parts = new AtomicInteger();
        return new ExportWorker.Hooks() {
            @Override
            public Uni<Void> afterFinalize(ClaimedJob job, FinalizedPart part) {
                if (parts.incrementAndGet() == n) {
                    crashed.set(true);
                    w.halt();
                    return Uni.createFrom().failure(new IllegalStateException("simulated crash"));
                }
                return Uni.createFrom().voidItem();
            }
        };
    }

    /** A system job of 30 resources whose worker crashed when it had finalized its n-th part, before recording it. */
    private ExportJobView systemJobCrashedAtPart(String tenant, String workerName, int n) throws Exception {
        populate(tenant, 30);
        ExportWorker a = worker(workerName, small());
        AtomicBoolean crashed = new AtomicBoolean();
        a.setHooks(crashAtPart(a, n, crashed));
        ExportJobView job = create(service, tenant, ExportLevel.SYSTEM, null, ExportRequest.all());
        a.runOnce().await().atMost(T);
        long deadline = System.nanoTime() + T.toNanos();
        while (!crashed.get() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(crashed.get());
        return job;
    }

    @Test
    void crashBetweenPartWriteAndRecordResumesExactlyOnce() throws Exception {
        String tenant = tenant();
        ExportJobView job = systemJobCrashedAtPart(tenant, "crashy", 3);
        assertEquals("in-progress", status(job.id()));
        assertEquals(2, count("SELECT count(*) FROM export_part WHERE job_id = ?", job.id()));
        expireLease(job.id());
        ExportWorker b = worker("rescuer", small());
        assertEquals("complete", awaitFinal(job.id(), T, b));
        assertExactlyOnce(tenant, job.id());
        assertEquals(2, count("SELECT max(fencing_token) FROM export_part WHERE job_id = ?", job.id()));
    }

    /**
     * Totals are counted beside the reads: an attempt that dies before recording them leaves its phases
     * without totals, and the next attempt counts and records them before the job completes.
     */
    @Test
    void totalsMissingAfterACrashAreCountedByTheNextAttempt() throws Exception {
        String tenant = tenant();
        ExportJobView job = systemJobCrashedAtPart(tenant, "crashy-totals", 1);
        // let the crashed attempt's own count end (it records while its lease holds), then take it back:
        // as if the attempt had died before counting
        long deadline = System.nanoTime() + T.toNanos();
        while (count("SELECT count(*) FROM export_type_progress WHERE job_id = ? AND kind = 'output' AND total IS NULL",
                job.id()) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        sql("UPDATE export_type_progress SET total = NULL WHERE job_id = ?", job.id());
        expireLease(job.id());
        ExportWorker b = worker("rescuer-totals", small());
        assertEquals("complete", awaitFinal(job.id(), T, b));
        assertExactlyOnce(tenant, job.id());
        assertEquals(0, count("SELECT count(*) FROM export_type_progress WHERE job_id = ? AND kind = 'output' "
                + "AND total IS DISTINCT FROM exported", job.id()), "every phase has its total again, equal to what it exported");
    }

    @Test
    void crashesAtRandomPointsStillExportEverythingExactlyOnce() throws Exception {
        Random random = new Random(42);
        for (int round = 0; round < 3; round++) {
            String tenant = tenant();
            populate(tenant, 25);
            ExportJobView job = create(service, tenant, ExportLevel.PATIENT, null, ExportRequest.all());
            for (int crash = 0; crash < 2; crash++) {
                ExportWorker w = worker("random-" + round + "-" + crash, small());
                AtomicBoolean crashed = new AtomicBoolean();
                w.setHooks(crashAtPart(w, 1 + random.nextInt(6), crashed));
                w.runOnce().await().atMost(T);
                long deadline = System.nanoTime() + T.toNanos();
                while (!crashed.get() && !"complete".equals(status(job.id())) && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                if (random.nextBoolean()) {
                    // also crash outside the part window: a timer-driven halt mid-batch
                    w.halt();
                }
                expireLease(job.id());
            }
            ExportWorker finisher = worker("finisher-" + round, small());
            assertEquals("complete", awaitFinal(job.id(), T, finisher));
            assertExactlyOnce(tenant, job.id());
        }
    }

    @Test
    void connectionLossMidExportIsRetriedAndCompletes() throws Exception {
        String tenant = tenant();
        populate(tenant, 60);
        ExportWorker w = worker("flaky-db", small());
        AtomicInteger parts = new AtomicInteger();
        w.setHooks(new ExportWorker.Hooks() {
            @Override
            public Uni<Void> afterFinalize(ClaimedJob job, FinalizedPart part) {
                if (parts.incrementAndGet() == 4) {
                    return Uni.createFrom().item(() -> {
                        try {
                            sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    + "WHERE datname = current_database() AND pid <> pg_backend_pid()");
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        return null;
                    }).runSubscriptionOn(Infrastructure.getDefaultWorkerPool()).replaceWithVoid();
                }
                return Uni.createFrom().voidItem();
            }
        });
        ExportJobView job = create(service, tenant, ExportLevel.SYSTEM, null, ExportRequest.all());
        assertEquals("complete", awaitFinal(job.id(), T, w));
        assertExactlyOnce(tenant, job.id());
        assertTrue(parts.get() > 4);
    }

    @jakarta.inject.Inject
    io.micrometer.core.instrument.MeterRegistry meters;

    private double counter(String name, String... tags) {
        var c = meters.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    private double leasesLost() {
        return meters.find("sluice.lease.lost").counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    /**
     * Regression (chaos SIGSTOP): a stale worker that finalizes a part after the job completed leaves no
     * orphan file. The reclaim and the stale worker's lost lease show in the metrics operators alert on.
     */
    @Test
    void staleWorkerPartFinalizedAfterTheJobCompletedIsDeleted() throws Exception {
        double reclaimsBefore = counter("sluice.lease.reclaims");
        double lostBefore = leasesLost();
        String tenant = tenant();
        populate(tenant, 30);
        ExportWorker stale = worker("frozen", small().withLease(Duration.ofSeconds(60), Duration.ofSeconds(30)));
        AtomicInteger parts = new AtomicInteger();
        AtomicReference<UUID> jobId = new AtomicReference<>();
        ExportWorker rescuer = worker("thawed-rescuer", small());
        stale.setHooks(new ExportWorker.Hooks() {
            @Override
            public Uni<Void> afterFinalize(ClaimedJob job, FinalizedPart part) {
                if (parts.incrementAndGet() != 2) {
                    return Uni.createFrom().voidItem();
                }
                // "frozen" past its lease: another worker reclaims and finishes the job meanwhile
                return Uni.createFrom().item(() -> {
                    try {
                        expireLease(jobId.get());
                        assertEquals("complete", awaitFinal(jobId.get(), T, rescuer));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    return (Void) null;
                }).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
            }
        });
        ExportJobView job = create(service, tenant, ExportLevel.SYSTEM, null, ExportRequest.all());
        jobId.set(job.id());
        stale.runOnce().await().atMost(T);
        long deadline = System.nanoTime() + T.toNanos();
        while ((parts.get() < 2 || stale.activeCount() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(0, stale.activeCount());
        assertEquals("complete", status(job.id()));
        assertExactlyOnce(tenant, job.id());
        assertEquals(reclaimsBefore + 1, counter("sluice.lease.reclaims"), 0.001, "the rescuer's claim was a reclaim");
        // RECLAIMED or FINISHED, by when its other lane's next fenced write came: once per run either way
        assertEquals(lostBefore + 1, leasesLost(), 0.001, "the stale worker lost its lease once");
    }

    @Test
    void cancelMidExportStopsTheWorkerAndDeletesFiles() throws Exception {
        String tenant = tenant();
        populate(tenant, 40);
        // one lane, so "the second part" is a fixed point of the run: with two, the other lane's part in
        // flight may be finalized (never recorded) after the cancel, and which lane records first varies
        ExportWorker w = worker("cancelled", small().withParallelTypes(1));
        AtomicInteger parts = new AtomicInteger();
        AtomicReference<UUID> jobId = new AtomicReference<>();
        w.setHooks(new ExportWorker.Hooks() {
            @Override
            public Uni<Void> afterFinalize(ClaimedJob job, FinalizedPart part) {
                if (parts.incrementAndGet() == 2) {
                    return service.cancel(tenant, jobId.get(), "").replaceWithVoid();
                }
                return Uni.createFrom().voidItem();
            }
        });
        ExportJobView job = create(service, tenant, ExportLevel.SYSTEM, null, ExportRequest.all());
        jobId.set(job.id());
        assertEquals("cancelled", awaitFinal(job.id(), T, w));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (w.activeCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(0, w.activeCount());
        assertEquals(2, parts.get(), "no part written after the cancel");
        assertEquals(1, count("SELECT count(*) FROM export_part WHERE job_id = ?", job.id()));
        assertFalse(Files.exists(Path.of(EngineProfile.OUTPUT_DIR, tenant, job.id().toString())));
        assertEquals("cancelled", status(job.id()));
    }

    @Test
    void heartbeatDetectsCancelWhileThePipelineIsBusy() throws Exception {
        String tenant = tenant();
        populate(tenant, 20);
        ExportWorker w = worker("hb", small().withLease(Duration.ofSeconds(5), Duration.ofMillis(50)));
        AtomicInteger parts = new AtomicInteger();
        w.setHooks(new ExportWorker.Hooks() {
            @Override
            public Uni<Void> afterFinalize(ClaimedJob job, FinalizedPart part) {
                parts.incrementAndGet();
                return Uni.createFrom().voidItem().onItem().delayIt().by(Duration.ofMillis(400));
            }
        });
        ExportJobView job = create(service, tenant, ExportLevel.SYSTEM, null, ExportRequest.all());
        w.runOnce().await().atMost(T);
        while (parts.get() == 0) {
            Thread.sleep(5);
        }
        sql("UPDATE export_job SET status = 'cancelled', completed_at = now() WHERE id = ?", job.id());
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (w.activeCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(0, w.activeCount(), "stopped by the heartbeat");
        assertTrue(parts.get() <= 2, "stopped promptly, parts finalized: " + parts.get());
        assertFalse(Files.exists(Path.of(EngineProfile.OUTPUT_DIR, tenant, job.id().toString())));
    }

    @Test
    void gracefulShutdownReleasesTheLeaseForAnotherInstance() throws Exception {
        String tenant = tenant();
        populate(tenant, 30);
        ExportWorker a = worker("leaving", small());
        AtomicInteger parts = new AtomicInteger();
        AtomicReference<Uni<Void>> shutdown = new AtomicReference<>();
        a.setHooks(new ExportWorker.Hooks() {
            @Override
            public Uni<Void> afterFinalize(ClaimedJob job, FinalizedPart part) {
                if (parts.incrementAndGet() == 2) {
                    shutdown.set(a.shutdown().memoize().indefinitely());
                    shutdown.get().subscribe().with(x -> {
                    });
                }
                return Uni.createFrom().voidItem();
            }
        });
        ExportJobView job = create(service, tenant, ExportLevel.SYSTEM, null, ExportRequest.all());
        a.runOnce().await().atMost(T);
        while (shutdown.get() == null) {
            Thread.sleep(5);
        }
        shutdown.get().await().atMost(T);
        assertEquals("in-progress", status(job.id()));
        assertEquals(1, count("SELECT count(*) FROM export_job WHERE id = ? AND lease_expires_at <= now()", job.id()),
                "lease released at once");
        ExportWorker b = worker("successor", small());
        long t0 = System.nanoTime();
        assertEquals("complete", awaitFinal(job.id(), T, b));
        assertTrue((System.nanoTime() - t0) / 1_000_000 < 10_000);
        assertExactlyOnce(tenant, job.id());
    }

    @Test
    void snapshotHoldsUnderConcurrentUpdatesAndDeletesAcrossAResume() throws Exception {
        String tenant = tenant();
        populate(tenant, 60);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger writes = new AtomicInteger();
        Thread writer = new Thread(() -> {
            Random r = new Random(7);
            try (var fx = new ResourceFixture(tenant)) {
                while (!stop.get()) {
                    String p = String.format("p%04d", r.nextInt(60));
                    int op = r.nextInt(4);
                    if (op == 0) {
                        fx.delete("Observation", "o" + p);
                    } else if (op == 1) {
                        fx.put("Patient", "new-" + writes.get(), body(), List.of());
                    } else {
                        fx.put("Observation", "o" + p, subject(p, "status", "amended"), List.of(p));
                    }
                    writes.incrementAndGet();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        writer.start();
        try {
            while (writes.get() < 20) {
                Thread.sleep(2);
            }
            ExportJobView job = create(service, tenant, ExportLevel.SYSTEM, null, ExportRequest.all());
            ExportWorker a = worker("snap-a", small());
            AtomicBoolean crashed = new AtomicBoolean();
            a.setHooks(crashAtPart(a, 5, crashed));
            a.runOnce().await().atMost(T);
            while (!crashed.get()) {
                Thread.sleep(5);
            }
            int before = writes.get();
            while (writes.get() < before + 30) {
                Thread.sleep(2);
            }
            expireLease(job.id());
            ExportWorker b = worker("snap-b", small());
            assertEquals("complete", awaitFinal(job.id(), T, b));
            stop.set(true);
            writer.join();
            assertExactlyOnce(tenant, job.id());
            ExportJobView v = view(service, tenant, job.id());
            assertTrue(count("SELECT count(*) FROM resource_version WHERE tenant = ? AND valid_from > ?", tenant,
                    java.time.OffsetDateTime.ofInstant(v.transactionTime(), java.time.ZoneOffset.UTC)) > 30,
                    "writes happened after the snapshot instant");
        } finally {
            stop.set(true);
            writer.join();
        }
    }

    @Test
    void manyWorkersRacingOverAThousandJobsNeverShareOne() throws Exception {
        String tenant = tenant();
        Set<UUID> ids = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 1000; i++) {
            ids.add(create(service, tenant, ExportLevel.SYSTEM, null,
                    new ExportRequest(List.of("Basic"), null, null, null, null, null, null, null)).id());
        }
        ConcurrentHashMap<UUID, String> live = new ConcurrentHashMap<>();
        ConcurrentHashMap<UUID, AtomicInteger> runs = new ConcurrentHashMap<>();
        List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
        List<ExportWorker> ws = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ExportWorker w = worker("racer" + i, engine.settings().withSlots(4));
            w.setHooks(new ExportWorker.Hooks() {
                @Override
                public void jobStarted(ClaimedJob job) {
                    String prev = live.putIfAbsent(job.lease().jobId(), w.id());
                    if (prev != null) {
                        violations.add(job.lease().jobId() + " run by " + prev + " and " + w.id());
                    }
                    runs.computeIfAbsent(job.lease().jobId(), k -> new AtomicInteger()).incrementAndGet();
                }

                @Override
                public void jobEnded(ClaimedJob job) {
                    live.remove(job.lease().jobId(), w.id());
                }
            });
            ws.add(w);
        }
        ws.forEach(ExportWorker::wake);
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        long done = 0;
        while (System.nanoTime() < deadline) {
            done = count("SELECT count(*) FROM export_job WHERE tenant = ? AND status = 'complete'", tenant);
            if (done == 1000) {
                break;
            }
            ws.forEach(ExportWorker::wake);
            Thread.sleep(50);
        }
        assertEquals(1000, done);
        assertEquals(List.of(), violations);
        for (UUID id : ids) {
            assertEquals(1, runs.get(id).get(), "job " + id + " ran once");
        }
        assertEquals(1000, count("SELECT count(*) FROM export_job WHERE tenant = ? AND attempts = 1 AND fencing_token = 1", tenant));
        assertTrue(runs.keySet().containsAll(ids));
    }
}
