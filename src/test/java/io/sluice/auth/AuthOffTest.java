package io.sluice.auth;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;

/** The default test configuration: auth off (%test.sluice.auth.enabled=false). */
@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
class AuthOffTest {

    @Test
    void everythingIsOpenAndAuthorizationHeadersAreIgnored() {
        given().get("/fhir/Patient/_authprobe").then().statusCode(200)
                .body("owner", equalTo("")).body("authEnabled", equalTo(false))
                .body("readable", contains("*")).body("mayWritePatient", equalTo(true));
        given().header("Authorization", "Bearer ").get("/fhir/Patient/_authprobe").then().statusCode(200);
        given().header("Authorization", "Bearer garbage").post("/fhir/Patient/_authprobe").then().statusCode(200);
        given().header("Authorization", "Bearer ").get("/tenants/acme/fhir/Patient/_authprobe").then().statusCode(200)
                .body("tenant", equalTo("acme"));
        given().get("/fhir/.well-known/smart-configuration").then().statusCode(404);
        // no admin token configured: the admin endpoint does not exist
        given().header("Authorization", "Bearer ").get("/admin/clients").then().statusCode(404);
    }
}
