package io.sluice;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
class HealthTest {

    @jakarta.inject.Inject
    io.vertx.mutiny.sqlclient.Pool pool;

    @Test
    void reactiveSessionsPlanWithRealParameters() {
        String mode = pool.query("SHOW plan_cache_mode").execute().await().indefinitely().iterator().next().getString(0);
        assertEquals("force_custom_plan", mode);
    }

    @Test
    void liveAndReadyWithMigrationsApplied() throws Exception {
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        try (var c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT count(*) FROM flyway_schema_history WHERE success");
            rs.next();
            assertTrue(rs.getInt(1) >= 2);
            rs = s.executeQuery("SHOW timezone");
            rs.next();
            assertNotEquals("UTC", rs.getString(1), "tests must run in a non-UTC session time zone");
        }
    }
}
