package io.sluice.export;

import io.sluice.support.ServiceProcesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Reduced CI variant of {@code bench/chaos.sh} on packaged service processes (KillNineIT covers kill -9):
 * SIGSTOP of the holder past its lease then SIGCONT (no write of the stale token after the reclaim, the
 * snapshot exactly once, no orphan file), and an unwritable output directory (the job ends {@code error}
 * with a message, nothing stays in progress).
 */
class ChaosIT {

    private final Map<String, Process> processes = new HashMap<>();

    @AfterEach
    void stop() throws Exception {
        for (Process p : processes.values()) {
            signal(p, "CONT");
            p.destroyForcibly();
        }
    }

    private static void signal(Process p, String sig) throws Exception {
        new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).inheritIO().start().waitFor();
    }

    private Process start(String name, Path outputDir, Path log) throws Exception {
        Process p = ServiceProcesses.start(name, outputDir, log, new ArrayList<>());
        processes.put(name, p);
        return p;
    }

    private static String one(String sql, Object... args) throws Exception {
        return ServiceProcesses.one(sql, args);
    }

    private static long num(String sql, Object... args) throws Exception {
        return Long.parseLong(one(sql, args));
    }

    private static UUID kickoff(String tenant) throws Exception {
        return ServiceProcesses.insertSystemJob(tenant, "http://chaos/$export");
    }

    private static void await(String what, Duration timeout, java.util.concurrent.Callable<Boolean> condition) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.call()) {
            assertTrue(System.nanoTime() < end, "timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    @Test
    void sigstopPastTheLeaseThenSigcontWritesNothingUnderTheStaleToken() throws Exception {
        Path work = Files.createDirectories(Path.of("target", "chaos-" + UUID.randomUUID().toString().substring(0, 8))).toAbsolutePath();
        Path out = work.resolve("exports");
        start("alpha", out, work.resolve("alpha.log"));
        start("beta", out, work.resolve("beta.log"));
        String tenant = "chaos-stop";
        ServiceProcesses.putPatientsWithObservations(tenant, 1500);
        UUID job = kickoff(tenant);
        await("3 parts", Duration.ofSeconds(60), () -> num("SELECT count(*) FROM export_part WHERE job_id = ?", job) >= 3);
        String holder = one("SELECT worker_id FROM export_job WHERE id = ? AND status = 'in-progress'", job);
        assertNotNull(holder, "job finished too early for the scenario");
        long token = num("SELECT fencing_token FROM export_job WHERE id = ?", job);
        Process frozen = processes.get(holder);
        signal(frozen, "STOP");
        await("reclaim by the other process", Duration.ofSeconds(30),
                () -> num("SELECT fencing_token FROM export_job WHERE id = ?", job) > token);
        String reclaimedAt = one("SELECT clock_timestamp()::text");
        Thread.sleep(1000);
        signal(frozen, "CONT");
        await("completion", Duration.ofSeconds(90), () -> "complete".equals(one("SELECT status FROM export_job WHERE id = ?", job)));
        assertNotEquals(holder, one("SELECT worker_id FROM export_job WHERE id = ?", job));
        Thread.sleep(2000); // give the thawed process time to notice and clean up
        assertEquals(0, num("SELECT count(*) FROM export_part WHERE job_id = ? AND fencing_token = ? AND created_at >= ?::timestamptz",
                job, token, reclaimedAt), "no write of the stale token after the reclaim");
        assertTrue(Files.readString(work.resolve(holder + ".log")).contains("lease lost"), "the thawed worker noticed");

        ServiceProcesses.RecordedExport recorded = ServiceProcesses.recorded(job, out);
        List<String> expected = ServiceProcesses.snapshotKeys(tenant, job);
        assertEquals(3000, expected.size());
        assertEquals(expected, recorded.keys(), "the snapshot exactly once");
        assertEquals(recorded.files(), ServiceProcesses.jobFiles(out, tenant, job),
                "no orphan file, also none from the thawed process");
    }

    @Test
    void unwritableOutputDirectoryEndsTheJobInErrorWithAMessage() throws Exception {
        Path work = Files.createDirectories(Path.of("target", "chaos-" + UUID.randomUUID().toString().substring(0, 8))).toAbsolutePath();
        Path notADir = Files.writeString(work.resolve("not-a-directory"), "x");
        start("gamma", notADir.resolve("exports"), work.resolve("gamma.log"));
        String tenant = "chaos-unwritable";
        ServiceProcesses.putPatientsWithObservations(tenant, 20);
        UUID job = kickoff(tenant);
        await("error", Duration.ofSeconds(60), () -> "error".equals(one("SELECT status FROM export_job WHERE id = ?", job)));
        String message = one("SELECT error_message FROM export_job WHERE id = ?", job);
        assertNotNull(message);
        assertFalse(message.isBlank());
        assertEquals(0, num("SELECT count(*) FROM export_job WHERE tenant = ? AND status IN ('accepted', 'in-progress')", tenant),
                "nothing stuck");
    }
}
