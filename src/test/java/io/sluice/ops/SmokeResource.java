package io.sluice.ops;

import io.sluice.support.PostgresTestResource;

import java.util.HashMap;
import java.util.Map;

/** The test database plus the settings the smoke test needs; works for @QuarkusTest and the packaged app. */
public class SmokeResource extends PostgresTestResource {

    /** Admin token of the smoke tests. */
    static final String ADMIN_TOKEN = "smoke-admin-token-41c2";

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        // a database of its own: the packaged app keeps running while the other *IT classes start their
        // own service processes, and its worker must not take their jobs
        config.put("sluice.db.url", newDatabase());
        // the packaged app runs the prod profile, where auth is on: the smoke test speaks without tokens
        config.put("sluice.auth.enabled", "false");
        config.put("sluice.auth.admin-token", ADMIN_TOKEN);
        config.put("sluice.export.output-dir", "target/smoke-exports");
        config.put("sluice.sample.load", "never");
        return config;
    }
}
