package io.sluice.job;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.sluice.export.RetentionCleaner;
import io.sluice.output.FinalizedPart;
import io.sluice.output.PartKey;
import io.sluice.support.EngineProfile;
import io.sluice.support.PostgresTestResource;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Transaction;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/** Claim, lease, fencing and terminal-state rules of the job store, on real PostgreSQL. */
@QuarkusTest
@TestProfile(EngineProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class JobStoreFencingTest {

    private static final Duration T = Duration.ofSeconds(10);
    private static final Duration LEASE = Duration.ofSeconds(60);

    @Inject
    JobStore jobs;
    @Inject
    ExportService service;
    @Inject
    RetentionCleaner retention;
    @Inject
    Pool pool;

    private UUID newJob(String tenant) {
        return service.create(new NewExportJob(tenant, ExportLevel.SYSTEM, null, ExportRequest.all(), "http://x/$export", ""))
                .await().atMost(T).id();
    }

    private static String tenant() {
        return "f" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Claims exactly the given job (other tests' jobs may be claimable too: those are handed back). */
    private ClaimedJob claimJob(String worker, UUID id) {
        for (int i = 0; i < 50; i++) {
            List<ClaimedJob> got = jobs.claim(worker, 50, LEASE, 5).await().atMost(T);
            ClaimedJob mine = null;
            for (ClaimedJob c : got) {
                if (c.lease().jobId().equals(id)) {
                    mine = c;
                } else {
                    jobs.release(c.lease()).await().atMost(T);
                }
            }
            if (mine != null) {
                return mine;
            }
        }
        fail("could not claim " + id);
        return null;
    }

    private static void sql(String sql, Object... args) throws Exception {
        try (Connection c = PostgresTestResource.jdbc(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.execute();
        }
    }

    private static String column(UUID id, String col) throws Exception {
        try (Connection c = PostgresTestResource.jdbc();
             PreparedStatement ps = c.prepareStatement("SELECT " + col + "::text FROM export_job WHERE id = ?")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private FinalizedPart part(ClaimedJob c, String type, int index) {
        PartKey key = new PartKey(c.tenant(), c.lease().jobId(), "output", type, index, c.lease().fencingToken());
        return new FinalizedPart(key, c.tenant() + "/" + c.lease().jobId() + "/x-" + index, 1, 10, "00");
    }

    @Test
    void claimBumpsTokenAndAttemptsAndSetsLease() throws Exception {
        UUID id = newJob(tenant());
        assertEquals("accepted", column(id, "status"));
        ClaimedJob c = claimJob("w1", id);
        assertEquals(1, c.lease().fencingToken());
        assertEquals(1, c.attempts());
        assertEquals("in-progress", column(id, "status"));
        assertEquals("w1", column(id, "worker_id"));
        assertNotNull(column(id, "started_at"));
        assertTrue(c.leaseExpiresAt().isAfter(Instant.now().plusSeconds(30)));
        // a live lease is not claimable by another worker
        for (ClaimedJob other : jobs.claim("w2", 100, LEASE, 5).await().atMost(T)) {
            assertNotEquals(id, other.lease().jobId());
            jobs.release(other.lease()).await().atMost(T);
        }
        jobs.complete(c.lease()).await().atMost(T);
    }

    @Test
    void expiredLeaseIsReclaimedAndEveryStaleWriteIsRejected() throws Exception {
        UUID id = newJob(tenant());
        ClaimedJob stale = claimJob("stale", id);
        jobs.initProgress(stale.lease(), List.of(TypeProgressRow.start("output", "Patient", null))).await().atMost(T);
        // the stale worker stops heartbeating: its lease is in the past
        sql("UPDATE export_job SET lease_expires_at = now() - interval '1 minute' WHERE id = ?", id);
        ClaimedJob fresh = claimJob("fresh", id);
        assertEquals(stale.lease().fencingToken() + 1, fresh.lease().fencingToken());
        assertEquals(2, fresh.attempts());

        Lease s = stale.lease();
        assertLost(jobs.heartbeat(s, LEASE).replaceWithVoid(), LeaseLostException.Reason.RECLAIMED);
        assertLost(jobs.recordPart(s, part(stale, "Patient", 0), "p9", 1, false), LeaseLostException.Reason.RECLAIMED);
        assertLost(jobs.markDone(s, "output", "Patient", "p9"), LeaseLostException.Reason.RECLAIMED);
        assertLost(jobs.initProgress(s, List.of(TypeProgressRow.start("output", "Observation", null))),
                LeaseLostException.Reason.RECLAIMED);
        assertLost(jobs.complete(s), LeaseLostException.Reason.RECLAIMED);
        assertLost(jobs.fail(s, "stale"), LeaseLostException.Reason.RECLAIMED);
        assertLost(jobs.release(s), LeaseLostException.Reason.RECLAIMED);
        assertEquals(0, jobs.recordedLocations(id).await().atMost(T).size());
        assertEquals(1, jobs.progress(id).await().atMost(T).size(), "stale initProgress wrote nothing");
        assertEquals("fresh", column(id, "worker_id"));

        // the fresh holder's writes go through
        jobs.recordPart(fresh.lease(), part(fresh, "Patient", 0), "p1", 1, true).await().atMost(T);
        jobs.complete(fresh.lease()).await().atMost(T);
        assertEquals("complete", column(id, "status"));
    }

    /**
     * A replica frozen (SIGSTOP, a long GC pause) inside a fenced transaction holds the job row's lock,
     * and the claim's SKIP LOCKED would hide the job for as long as it stays frozen. PostgreSQL ends such
     * a session after {@code sluice.db.idle-in-transaction-timeout} (3 s in {@link EngineProfile}), so
     * the job is reclaimed and the frozen session's commit fails.
     */
    @Test
    void aReplicaFrozenInsideATransactionDoesNotHideTheJobPastTheIdleTimeout() throws Exception {
        UUID id = newJob(tenant());
        ClaimedJob frozen = claimJob("frozen", id);
        sql("UPDATE export_job SET lease_expires_at = now() - interval '1 minute' WHERE id = ?", id);
        SqlConnection conn = pool.getConnection().await().atMost(T);
        try {
            Transaction tx = conn.begin().await().atMost(T);
            conn.preparedQuery("UPDATE export_job SET heartbeat_at = now() WHERE id = $1 AND fencing_token = $2")
                    .execute(Tuple.of(id, frozen.lease().fencingToken())).await().atMost(T);
            long frozenAt = System.nanoTime();
            ClaimedJob reclaimed = null;
            boolean hiddenWhileLocked = false;
            while (reclaimed == null) {
                assertTrue(System.nanoTime() - frozenAt < Duration.ofSeconds(20).toNanos(), "never reclaimed");
                for (ClaimedJob c : jobs.claim("thawed-peer", 50, LEASE, 5).await().atMost(T)) {
                    if (c.lease().jobId().equals(id)) {
                        reclaimed = c;
                    } else {
                        jobs.release(c.lease()).await().atMost(T);
                    }
                }
                if (reclaimed == null && System.nanoTime() - frozenAt < Duration.ofSeconds(2).toNanos()) {
                    hiddenWhileLocked = true;
                }
                Thread.sleep(100);
            }
            assertTrue(hiddenWhileLocked, "the row lock hides the job while the session is inside its transaction");
            assertTrue(System.nanoTime() - frozenAt >= Duration.ofSeconds(2).toNanos(), "reclaimed only after the idle timeout");
            assertEquals(frozen.lease().fencingToken() + 1, reclaimed.lease().fencingToken());
            assertThrows(RuntimeException.class, () -> tx.commit().await().atMost(T), "the frozen session was ended");
            assertEquals("thawed-peer", column(id, "worker_id"));
            jobs.complete(reclaimed.lease()).await().atMost(T);
        } finally {
            conn.close().await().atMost(T);
        }
    }

    private static void assertLost(io.smallrye.mutiny.Uni<Void> write, LeaseLostException.Reason reason) {
        LeaseLostException e = assertThrows(LeaseLostException.class, () -> write.await().atMost(T));
        assertEquals(reason, e.reason());
    }

    @Test
    void attemptCapSendsAnAbandonedJobToErrorInsteadOfClaimingIt() throws Exception {
        UUID id = newJob(tenant());
        sql("UPDATE export_job SET status = 'in-progress', worker_id = 'dead', fencing_token = 5, attempts = 5, "
                + "lease_expires_at = now() - interval '1 second' WHERE id = ?", id);
        for (ClaimedJob c : jobs.claim("w", 100, LEASE, 5).await().atMost(T)) {
            assertNotEquals(id, c.lease().jobId());
            jobs.release(c.lease()).await().atMost(T);
        }
        assertEquals("error", column(id, "status"));
        assertTrue(column(id, "error_message").contains("5 attempts"), column(id, "error_message"));
        assertNotNull(column(id, "completed_at"));
        // below the cap it is reclaimed
        UUID other = newJob(tenant());
        sql("UPDATE export_job SET status = 'in-progress', worker_id = 'dead', fencing_token = 4, attempts = 4, "
                + "lease_expires_at = now() - interval '1 second' WHERE id = ?", other);
        ClaimedJob c = claimJob("w", other);
        assertEquals(5, c.attempts());
        jobs.complete(c.lease()).await().atMost(T);
    }

    @Test
    void cancelRacingCompletionHasExactlyOneWinnerAndNeverResurrects() throws Exception {
        for (int i = 0; i < 20; i++) {
            String tenant = tenant();
            UUID id = newJob(tenant);
            ClaimedJob c = claimJob("w", id);
            CompletableFuture<Boolean> cancel = CompletableFuture.supplyAsync(
                    () -> service.cancel(tenant, id, "").await().atMost(T));
            CompletableFuture<Boolean> complete = CompletableFuture.supplyAsync(() -> {
                try {
                    jobs.complete(c.lease()).await().atMost(T);
                    return true;
                } catch (LeaseLostException e) {
                    assertEquals(LeaseLostException.Reason.CANCELLED, e.reason());
                    return false;
                }
            });
            boolean completed = complete.get();
            boolean cancelled = cancel.get();
            assertTrue(cancelled, "cancel answers true: it cancels a running job or deletes a finished one");
            String status = column(id, "status");
            if (completed) {
                assertNull(status, "cancel after completion deletes the finished job");
            } else {
                assertEquals("cancelled", status);
                assertFalse(service.cancel(tenant, id, "").await().atMost(T), "second cancel is a no-op");
                assertThrows(LeaseLostException.class, () -> jobs.complete(c.lease()).await().atMost(T));
                assertEquals("cancelled", column(id, "status"));
            }
        }
    }

    @Test
    void scopedLookupsAndCounts() throws Exception {
        String tenant = tenant();
        UUID id = service.create(new NewExportJob(tenant, ExportLevel.SYSTEM, null, ExportRequest.all(), "u", "client-a"))
                .await().atMost(T).id();
        assertTrue(service.find(tenant, id, "client-a").await().atMost(T).isPresent());
        assertTrue(service.find(tenant, id, "client-b").await().atMost(T).isEmpty());
        assertTrue(service.find("other", id, "client-a").await().atMost(T).isEmpty());
        assertEquals(1, service.countActive(tenant, null).await().atMost(T));
        assertEquals(1, service.countActive(tenant, "client-a").await().atMost(T));
        assertEquals(0, service.countActive(tenant, "client-b").await().atMost(T));
        assertFalse(service.cancel(tenant, id, "client-b").await().atMost(T));
        assertTrue(service.cancel(tenant, id, "client-a").await().atMost(T));
        assertEquals(0, service.countActive(tenant, null).await().atMost(T));
    }

    @Test
    void retentionDeletesOldFinishedJobsButNeverRunningOnes() throws Exception {
        String tenant = tenant();
        UUID done = newJob(tenant);
        UUID running = newJob(tenant);
        UUID waiting = newJob(tenant);
        UUID recent = newJob(tenant);
        sql("UPDATE export_job SET status = 'complete', completed_at = now() - interval '3 days' WHERE id = ?", done);
        sql("UPDATE export_job SET status = 'complete', completed_at = now() - interval '1 hour' WHERE id = ?", recent);
        // running and accepted jobs with ancient timestamps (even a stray completed_at) are never touched
        sql("UPDATE export_job SET status = 'in-progress', worker_id = 'w', lease_expires_at = now() + interval '1 minute', "
                + "created_at = now() - interval '9 days', completed_at = now() - interval '9 days' WHERE id = ?", running);
        sql("UPDATE export_job SET created_at = now() - interval '9 days', completed_at = now() - interval '9 days' "
                + "WHERE id = ?", waiting);
        int removed = retention.cleanOnce(Instant.now()).await().atMost(T);
        assertTrue(removed >= 1);
        assertNull(column(done, "status"));
        assertEquals("complete", column(recent, "status"));
        assertEquals("in-progress", column(running, "status"));
        assertEquals("accepted", column(waiting, "status"));
        sql("UPDATE export_job SET status = 'cancelled', completed_at = now() WHERE id IN (?, ?)", running, waiting);
    }
}
