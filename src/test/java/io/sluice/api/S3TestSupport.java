package io.sluice.api;

import io.restassured.response.Response;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Data and bucket inspection shared by the S3 output store tests. */
final class S3TestSupport {

    static final String BUCKET = io.sluice.support.S3MockResource.BUCKET;
    static final String PREFIX = "exports/test/";

    private S3TestSupport() {
    }

    /** Stores {@code patients} Patients and {@code observations} Observations of about {@code noteBytes} each via $ingest. */
    static void ingest(String tenant, int patients, int observations, int noteBytes) {
        String filler = "x".repeat(noteBytes);
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < patients; i++) {
            body.append("{\"resourceType\":\"Patient\",\"id\":\"p").append(i).append("\",\"gender\":\"female\"}\n");
        }
        int sent = 0;
        for (int i = 0; i < observations; i++) {
            body.append("{\"resourceType\":\"Observation\",\"id\":\"o").append(i)
                    .append("\",\"status\":\"final\",\"code\":{\"text\":\"big\"},\"subject\":{\"reference\":\"Patient/p0\"},")
                    .append("\"note\":[{\"text\":\"").append(i).append(filler).append("\"}]}\n");
            if (body.length() > 8_000_000) {
                post(tenant, body);
                body.setLength(0);
            }
            sent++;
        }
        if (body.length() > 0) {
            post(tenant, body);
        }
    }

    private static void post(String tenant, StringBuilder body) {
        Response r = given().contentType("application/fhir+ndjson").body(body.toString().getBytes(StandardCharsets.UTF_8))
                .post("/tenants/" + tenant + "/fhir/$ingest");
        assertTrue(r.statusCode() >= 200 && r.statusCode() < 300, "$ingest -> " + r.statusCode() + " " + r.asString());
    }

    /** The job id at the end of a status URL. */
    static String jobId(String statusUrl) {
        return statusUrl.substring(statusUrl.lastIndexOf('/') + 1);
    }

    static List<MultipartUpload> uploads(S3Client s3, String keyPrefix) {
        return s3.listMultipartUploads(ListMultipartUploadsRequest.builder().bucket(BUCKET).prefix(keyPrefix).build()).uploads();
    }

    static List<S3Object> objects(S3Client s3, String keyPrefix) {
        return s3.listObjectsV2(ListObjectsV2Request.builder().bucket(BUCKET).prefix(keyPrefix).build()).contents();
    }

    /** Lower-case hex SHA-256. */
    static String sha256(byte[] b) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    }
}
