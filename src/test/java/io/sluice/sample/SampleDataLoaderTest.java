package io.sluice.sample;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sluice.store.IngestReport;
import io.sluice.support.PostgresTestResource;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
class SampleDataLoaderTest {

    @Inject
    SampleDataLoader loader;

    @Test
    void loadsOnceIntoAnEmptyTenantAndTheDataIsServed() {
        String tenant = "sample-" + Long.toHexString(System.nanoTime());
        IngestReport first = loader.loadIfEmpty(tenant).await().atMost(Duration.ofMinutes(2));
        assertNotNull(first);
        int expected = new SampleDataGenerator(20261127, 50).lines().size();
        assertEquals(expected, first.stored());
        assertEquals(0, first.rejected());
        assertNull(loader.loadIfEmpty(tenant).await().atMost(Duration.ofMinutes(1)), "a second load must be refused");
        String base = "/tenants/" + tenant + "/fhir/";
        given().get(base + "Group/" + SampleDataGenerator.ALL_PATIENTS_GROUP).then().statusCode(200)
                .body("quantity", equalTo(50));
        given().get(base + "Patient/" + SampleDataGenerator.patientId(0)).then().statusCode(200)
                .body("meta.versionId", equalTo("1"));
        given().get("/fhir/Group/" + SampleDataGenerator.ALL_PATIENTS_GROUP).then().statusCode(404);
    }
}
