package io.sluice.support;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * Engine tests: the instance's own worker is off; tests build and drive workers themselves. A session
 * idle inside a transaction is ended after 3 s (the frozen-replica test waits for it).
 */
public class EngineProfile implements QuarkusTestProfile {

    /** Where the engine tests' output store writes. */
    public static final String OUTPUT_DIR = "target/engine-test-exports";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("sluice.worker.enabled", "false", "sluice.export.output-dir", OUTPUT_DIR,
                "sluice.db.idle-in-transaction-timeout", "3s");
    }
}
