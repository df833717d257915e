package io.sluice.ops;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * {@link PackagedAppSmokeTest} against the packaged application, started by Quarkus as a separate
 * process under the prod profile: {@code target/quarkus-app/quarkus-run.jar} after {@code ./mvnw verify},
 * the native executable after {@code ./mvnw verify -Dnative} (needs GraalVM/Mandrel, not installed on the
 * development machines). The database comes from {@link SmokeResource}, passed to the process as config.
 */
@QuarkusIntegrationTest
public class PackagedAppIT extends PackagedAppSmokeTest {
}
