package io.sluice.ops;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** Ops tests: the instance's worker on (woken by local creates), an admin token, fast gauge refresh. */
public class OpsTestProfile implements QuarkusTestProfile {

    /** The admin token of the ops tests. */
    public static final String ADMIN_TOKEN = "ops-test-admin-token-7f3a";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("sluice.worker.enabled", "true", "sluice.worker.tick", "1h",
                "sluice.worker.id", "ops-worker-1",
                "sluice.export.output-dir", "target/ops-test-exports",
                "sluice.export.part-max-resources", "7",
                "sluice.auth.admin-token", ADMIN_TOKEN,
                "sluice.ops.job-gauge-refresh", "1h");
    }
}
