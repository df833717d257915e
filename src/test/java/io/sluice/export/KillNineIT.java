package io.sluice.export;

import io.sluice.support.ServiceProcesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Process-level crash test on the packaged service: one JVM ({@code quarkus-run.jar}, or the native
 * runner under -Pnative) is killed with SIGKILL mid-export, a second one finishes the job; every
 * snapshot resource appears exactly once across the recorded parts and only recorded files remain.
 */
class KillNineIT {

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
    }

    private Process start(String name, Path outputDir, Path log) throws Exception {
        return ServiceProcesses.start(name, outputDir, log, processes);
    }

    private static String one(String sql, Object... args) throws Exception {
        return ServiceProcesses.one(sql, args);
    }

    @Test
    void killNineMidExportThenAnotherProcessFinishesExactlyOnce() throws Exception {
        Path work = Files.createDirectories(Path.of("target", "kill9-" + UUID.randomUUID().toString().substring(0, 8)))
                .toAbsolutePath();
        Path out = work.resolve("exports");
        Process a = start("victim", out, work.resolve("victim.log"));
        String tenant = "k9";
        ServiceProcesses.putPatientsWithObservations(tenant, 2000);
        UUID job = ServiceProcesses.insertSystemJob(tenant, "http://k9/$export");
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (Long.parseLong(one("SELECT count(*) FROM export_part WHERE job_id = ?", job)) < 5) {
            assertTrue(System.nanoTime() < end, "victim never recorded a part");
            Thread.sleep(2);
        }
        a.toHandle().destroyForcibly(); // SIGKILL
        a.waitFor();
        assertEquals("in-progress", one("SELECT status FROM export_job WHERE id = ?", job), "killed mid-export");
        long before = Long.parseLong(one("SELECT count(*) FROM export_part WHERE job_id = ?", job));

        start("rescuer", out, work.resolve("rescuer.log"));
        end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!"complete".equals(one("SELECT status FROM export_job WHERE id = ?", job))) {
            assertTrue(System.nanoTime() < end, "rescuer did not finish; status "
                    + one("SELECT status || ' ' || coalesce(error_message, '') FROM export_job WHERE id = ?", job));
            Thread.sleep(20);
        }
        assertEquals("rescuer", one("SELECT worker_id FROM export_job WHERE id = ?", job));
        assertEquals("2", one("SELECT max(fencing_token)::text FROM export_part WHERE job_id = ?", job));
        assertTrue(before < Long.parseLong(one("SELECT count(*) FROM export_part WHERE job_id = ?", job)));

        ServiceProcesses.RecordedExport recorded = ServiceProcesses.recorded(job, out);
        List<String> expected = ServiceProcesses.snapshotKeys(tenant, job);
        assertEquals(4000, expected.size());
        assertEquals(expected, recorded.keys());
        assertEquals(recorded.files(), ServiceProcesses.jobFiles(out, tenant, job),
                "unrecorded parts of the killed process were removed");
    }
}
