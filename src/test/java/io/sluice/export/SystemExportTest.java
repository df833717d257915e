package io.sluice.export;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.sluice.job.ExportJobView;
import io.sluice.job.ExportLevel;
import io.sluice.job.ExportRequest;
import io.sluice.job.ExportService;
import io.sluice.output.OutputStore;
import io.sluice.support.EngineProfile;
import io.sluice.support.PostgresTestResource;
import io.sluice.support.ResourceFixture;
import io.sluice.support.ResourceFixture.Spec;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.sluice.export.EngineHarness.*;
import static org.junit.jupiter.api.Assertions.*;

@QuarkusTest
@TestProfile(EngineProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class SystemExportTest {

    @Inject
    ExportService service;
    @Inject
    ExportEngine engine;
    @Inject
    OutputStore output;

    @Test
    void hundredResourcesExportOnceEachInWellUnderASecond() throws Exception {
        String tenant = tenant();
        try (var fx = new ResourceFixture(tenant)) {
            List<Spec> specs = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                specs.add(new Spec("Patient", "p" + i, ResourceFixture.body("gender", "female"), List.of()));
                for (int j = 0; j < 4; j++) {
                    specs.add(new Spec("Observation", "o" + i + "-" + j, ResourceFixture.subject("p" + i, "status", "final"),
                            List.of("p" + i)));
                }
            }
            fx.putAll(specs);
        }
        ExportWorker worker = engine.newWorker("w-fast", engine.settings());
        // warm-up (class loading, JIT, pool connections), then the measured run
        ExportJobView warm = create(service, tenant, ExportLevel.SYSTEM, null, ExportRequest.all());
        worker.runOnce().await().atMost(Duration.ofSeconds(5));
        assertEquals("complete", awaitFinal(warm.id(), Duration.ofSeconds(10), worker));
        long t0 = System.nanoTime();
        ExportJobView job = create(service, tenant, ExportLevel.SYSTEM, null, ExportRequest.all());
        worker.runOnce().await().atMost(Duration.ofSeconds(5));
        assertEquals("complete", awaitFinal(job.id(), Duration.ofSeconds(10), worker));
        long millis = (System.nanoTime() - t0) / 1_000_000;
        ExportJobView view = view(service, tenant, job.id());
        List<JsonNode> lines = lines(output, view, "output");
        assertEquals(snapshot(tenant, view.transactionTime()), keys(lines));
        assertEquals(100, lines.size());
        assertTrue(millis < 1000, "100-resource export took " + millis + " ms");
        var obs = view.progress().stream().filter(p -> p.resourceType().equals("Observation")).findFirst().orElseThrow();
        assertEquals(80, obs.exported());
        assertEquals(80L, obs.total());
        assertTrue(obs.done());
    }
}
