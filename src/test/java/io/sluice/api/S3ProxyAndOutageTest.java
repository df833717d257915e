package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.sluice.export.RetentionCleaner;
import io.sluice.support.PostgresTestResource;
import io.sluice.support.S3MockResource;
import io.sluice.support.S3Profile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.services.s3.S3Client;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static io.sluice.api.S3TestSupport.BUCKET;
import static io.sluice.api.S3TestSupport.PREFIX;
import static io.sluice.api.S3TestSupport.jobId;
import static io.sluice.api.S3TestSupport.objects;
import static io.sluice.api.S3TestSupport.uploads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** S3 store with downloads proxied through the API; a missing bucket and an outage mid-export end the job in error. */
@QuarkusTest
@TestProfile(S3Profile.Proxy.class)
@QuarkusTestResource(PostgresTestResource.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class S3ProxyAndOutageTest {

    static final Duration T = Duration.ofSeconds(90);

    @Inject
    S3Client s3;
    @Inject
    RetentionCleaner retention;

    /** Polls a status URL until it is no longer 202. */
    static Response settle(String status) {
        long deadline = System.nanoTime() + T.toNanos();
        while (System.nanoTime() < deadline) {
            Response r = given().get(status);
            if (r.statusCode() != 202) {
                return r;
            }
            BulkClient.sleep(100);
        }
        fail("job did not end: " + status);
        return null;
    }

    @Test
    @Order(1)
    void missingBucketFailsTheJobNamingTheCause() {
        S3TestSupport.ingest("s3-nobucket", 2, 0, 0);
        assertTrue(objects(s3, "").isEmpty(), "fresh bucket");
        s3.deleteBucket(b -> b.bucket(BUCKET));
        try {
            String status = BulkClient.tenant("s3-nobucket").kickoff("/$export");
            Response r = settle(status);
            assertEquals(500, r.statusCode(), r.asString());
            String text = r.asString();
            assertTrue(text.contains("bucket does not exist") && text.contains("NoSuchBucket")
                    && text.contains("s3://" + BUCKET + "/"), text);
            assertFalse(text.contains("retries"), "a missing bucket is not retried: " + text);
        } finally {
            s3.createBucket(b -> b.bucket(BUCKET));
        }
    }

    @Test
    @Order(2)
    void proxiedManifestAndDownloads() {
        S3TestSupport.ingest("s3-proxy", 3, 4, 200);
        BulkClient c = BulkClient.tenant("s3-proxy");
        String status = c.kickoff("/$export");
        JsonNode m = BulkClient.complete(status);
        for (JsonNode o : m.path("output")) {
            String url = o.path("url").asText();
            assertTrue(url.contains("/tenants/s3-proxy/fhir/$export-file/" + jobId(status) + "/"), url);
            assertFalse(url.contains("X-Amz"), url);
        }
        Map<String, List<JsonNode>> out = BulkClient.outputs(m);
        assertEquals(3, out.get("Patient").size());
        assertEquals(4, out.get("Observation").size());
        assertEquals(2, objects(s3, PREFIX + "s3-proxy/" + jobId(status) + "/").size());
    }

    @Test
    @Order(3)
    void outageMidExportEndsInErrorAndCleanupRemovesLeftovers() {
        S3TestSupport.ingest("s3-down", 1, 400, 60_000);
        String status = BulkClient.tenant("s3-down").kickoff("/$export", "_type", "Observation");
        String jobPrefix = PREFIX + "s3-down/" + jobId(status) + "/";
        S3MockResource mock = S3MockResource.current();
        try {
            long deadline = System.nanoTime() + T.toNanos();
            while (uploads(s3, jobPrefix).isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "no multipart upload started");
                BulkClient.sleep(10);
            }
            mock.kill(); // S3 goes away while the file is half uploaded
            Response r = settle(status);
            assertEquals(500, r.statusCode(), r.asString());
            String text = r.asString();
            assertTrue(text.contains("object store unreachable") && text.contains("after 3 retries")
                    && text.contains("s3://" + BUCKET + "/" + jobPrefix), text);
        } finally {
            mock.restart();
        }
        // the aborts could not reach S3; the retention pass removes what is left (uploads included)
        retention.cleanOnce(Instant.now().plus(Duration.parse(S3Profile.RETENTION)).plusSeconds(60)).await().atMost(T);
        assertTrue(uploads(s3, jobPrefix).isEmpty(), "uploads left: " + uploads(s3, jobPrefix));
        assertTrue(objects(s3, jobPrefix).isEmpty(), "objects left: " + objects(s3, jobPrefix));
    }
}
