package io.sluice.support;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** The instance's own worker on, with a tick so slow that only wake-ups (local event, NOTIFY) can start jobs. */
public class WorkerOnProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("sluice.worker.enabled", "true", "sluice.worker.tick", "1h",
                "sluice.export.output-dir", EngineProfile.OUTPUT_DIR);
    }
}
