package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.sluice.export.RetentionCleaner;
import io.sluice.output.FinalizedPart;
import io.sluice.output.OutputStore;
import io.sluice.output.PartKey;
import io.sluice.output.PartWriter;
import io.sluice.output.S3OutputStore;
import io.sluice.support.PostgresTestResource;
import io.sluice.support.S3MockResource;
import io.sluice.support.S3Profile;
import io.vertx.mutiny.core.buffer.Buffer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static io.sluice.api.S3TestSupport.BUCKET;
import static io.sluice.api.S3TestSupport.PREFIX;
import static io.sluice.api.S3TestSupport.jobId;
import static io.sluice.api.S3TestSupport.objects;
import static io.sluice.api.S3TestSupport.uploads;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exports into an S3 bucket (s3mock process) through the REST API, with presigned downloads. */
@QuarkusTest
@TestProfile(S3Profile.class)
@QuarkusTestResource(PostgresTestResource.class)
class S3ExportTest {

    static final String BIG = "s3-big";
    static final String SMALL = "s3-small";
    static final int BIG_OBSERVATIONS = 400;
    static final Duration T = Duration.ofSeconds(60);
    static boolean seeded;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @Inject
    S3Client s3;
    @Inject
    OutputStore output;
    @Inject
    RetentionCleaner retention;

    @BeforeEach
    void seed() {
        if (!seeded) {
            // ~24 MB of Observations: one output file spanning 5 parts of 5 MiB
            S3TestSupport.ingest(BIG, 2, BIG_OBSERVATIONS, 60_000);
            S3TestSupport.ingest(SMALL, 3, 5, 100);
            seeded = true;
        }
    }

    static byte[] get(String url) throws Exception {
        HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode(), "GET " + url + ": " + new String(r.body(), StandardCharsets.UTF_8));
        return r.body();
    }

    @Test
    void largeFileGoesUpInChunksAndDownloadsThroughPresignedUrlAndProxy() throws Exception {
        assertInstanceOf(S3OutputStore.class, unwrap(output), "kind=s3 selects the S3 store");
        BulkClient c = BulkClient.tenant(BIG);
        String status = c.kickoff("/$export", "_type", "Observation");
        JsonNode m = BulkClient.complete(status);
        String job = jobId(status);
        assertFalse(m.path("requiresAccessToken").asBoolean(true), "presigned URLs need no token: " + m);
        assertEquals(1, m.path("output").size(), m.toString());
        JsonNode entry = m.path("output").get(0);
        assertEquals(BIG_OBSERVATIONS, entry.path("count").asInt());
        String url = entry.path("url").asText();

        // path-style presigned GET: endpoint/bucket/prefix/tenant/job/file?X-Amz-...
        String endpoint = S3MockResource.current().endpoint();
        String keyStart = PREFIX + BIG + "/" + job + "/output-Observation-00000-t";
        assertTrue(url.startsWith(endpoint + "/" + BUCKET + "/" + keyStart), url);
        for (String p : new String[] {"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Credential=test-key", "X-Amz-Date=",
                "X-Amz-SignedHeaders=host", "X-Amz-Signature="}) {
            assertTrue(url.contains(p), p + " in " + url);
        }
        Matcher expires = Pattern.compile("X-Amz-Expires=(\\d+)").matcher(url);
        assertTrue(expires.find(), url);
        long seconds = Long.parseLong(expires.group(1));
        // configured 1 h, but never longer than the job's remaining retention (5 min)
        assertTrue(seconds <= Duration.parse(S3Profile.RETENTION).toSeconds() && seconds > 200, "X-Amz-Expires=" + seconds);

        byte[] direct = get(url);
        assertTrue(direct.length > 20_000_000, "size " + direct.length);
        String[] lines = new String(direct, StandardCharsets.UTF_8).split("\n");
        assertEquals(BIG_OBSERVATIONS, lines.length);
        for (String l : new String[] {lines[0], lines[lines.length / 2], lines[lines.length - 1]}) {
            assertEquals("Observation", BulkClient.json(l).path("resourceType").asText());
        }

        // the object was assembled from several multipart parts and no upload is left open
        String key = url.substring((endpoint + "/" + BUCKET + "/").length(), url.indexOf('?'));
        HeadObjectResponse head = s3.headObject(b -> b.bucket(BUCKET).key(key));
        assertEquals(direct.length, head.contentLength());
        assertTrue(head.eTag().matches("\"?[0-9a-f]+-5\"?"), "multipart ETag of 5 parts: " + head.eTag());
        assertEquals("application/fhir+ndjson", head.contentType());
        assertTrue(uploads(s3, PREFIX).isEmpty(), "open uploads: " + uploads(s3, PREFIX));

        // the same bytes through the API (proxy path), with the SHA-256 computed while streaming as ETag
        String fileUrl = "/tenants/" + BIG + "/fhir/$export-file/" + job + "/output-Observation-0.ndjson";
        Response proxied = given().get(fileUrl);
        assertEquals(200, proxied.statusCode());
        byte[] viaApi = proxied.asByteArray();
        assertArrayEquals(direct, viaApi);
        assertEquals("\"" + S3TestSupport.sha256(direct) + "\"", proxied.header("ETag"));
        Response range = given().header("Range", "bytes=5242870-5242899").get(fileUrl);
        assertEquals(206, range.statusCode());
        assertArrayEquals(Arrays.copyOfRange(direct, 5242870, 5242900), range.asByteArray(), "range across a chunk border");
    }

    @Test
    void abortedPartLeavesNoUploadAndFinalizedSmallPartIsOneObject() throws Exception {
        UUID job = UUID.randomUUID();
        String jobPrefix = PREFIX + "s3-unit/" + job + "/";
        PartWriter w = output.open(new PartKey("s3-unit", job, "output", "Observation", 0, 7)).await().atMost(T);
        byte[] mib = ("{\"resourceType\":\"Observation\",\"id\":\"" + "y".repeat(1024 * 1024 - 43) + "\"}\n")
                .getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 12; i++) {
            w.write(Buffer.buffer(mib), 1).await().atMost(T);
        }
        assertEquals(1, uploads(s3, jobPrefix).size(), "12 MiB with 5 MiB chunks started a multipart upload");
        assertTrue(objects(s3, jobPrefix).isEmpty(), "nothing visible before finalize");
        w.abort().await().atMost(T);
        assertTrue(uploads(s3, jobPrefix).isEmpty(), "abort aborts the multipart upload");
        assertTrue(objects(s3, jobPrefix).isEmpty());

        PartWriter small = output.open(new PartKey("s3-unit", job, "output", "Patient", 0, 7)).await().atMost(T);
        byte[] line = "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n".getBytes(StandardCharsets.UTF_8);
        small.write(Buffer.buffer(line), 1).await().atMost(T);
        FinalizedPart part = small.finalizePart().await().atMost(T);
        assertEquals(line.length, part.byteCount());
        assertEquals(S3TestSupport.sha256(line), part.sha256());
        assertEquals(line.length, output.size(part.location()).await().atMost(T).orElseThrow());
        assertTrue(uploads(s3, jobPrefix).isEmpty(), "a small part is one PutObject");
        String read = output.read(part.location(), 1, 7).collect().in(StringBuilder::new, (sb, b) -> sb.append(b.toString()))
                .await().atMost(T).toString();
        assertEquals(new String(line, StandardCharsets.UTF_8).substring(1, 8), read);

        output.deleteJob("s3-unit", job).await().atMost(T);
        assertTrue(objects(s3, jobPrefix).isEmpty());
        assertTrue(output.size(part.location()).await().atMost(T).isEmpty());
    }

    @Test
    void cancelDeletesObjectsAndOpenUploads() {
        BulkClient c = BulkClient.tenant(BIG);
        String status = c.kickoff("/$export", "_type", "Observation,Patient");
        String jobPrefix = PREFIX + BIG + "/" + jobId(status) + "/";
        long deadline = System.nanoTime() + T.toNanos();
        while (System.nanoTime() < deadline && uploads(s3, jobPrefix).isEmpty() && objects(s3, jobPrefix).isEmpty()) {
            BulkClient.sleep(20);
        }
        assertEquals(202, given().delete(status).statusCode());
        deadline = System.nanoTime() + T.toNanos();
        while (System.nanoTime() < deadline && !(uploads(s3, jobPrefix).isEmpty() && objects(s3, jobPrefix).isEmpty())) {
            BulkClient.sleep(100);
        }
        assertTrue(uploads(s3, jobPrefix).isEmpty(), "uploads left: " + uploads(s3, jobPrefix));
        assertTrue(objects(s3, jobPrefix).isEmpty(), "objects left: " + objects(s3, jobPrefix));
        assertEquals(404, given().get(status).statusCode());
    }

    @Test
    void retentionDeletesObjects() {
        String status = BulkClient.tenant(SMALL).kickoff("/$export");
        JsonNode m = BulkClient.complete(status);
        assertEquals(2, m.path("output").size(), m.toString());
        for (JsonNode o : m.path("output")) {
            assertTrue(o.path("url").asText().contains("X-Amz-Signature="), o.toString());
        }
        String jobPrefix = PREFIX + SMALL + "/" + jobId(status) + "/";
        assertEquals(2, objects(s3, jobPrefix).size());
        retention.cleanOnce(Instant.now().plus(Duration.parse(S3Profile.RETENTION)).plusSeconds(60)).await().atMost(T);
        assertTrue(objects(s3, jobPrefix).isEmpty(), "objects left: " + objects(s3, jobPrefix));
        assertEquals(404, given().get(status).statusCode());
    }

    static Object unwrap(OutputStore s) {
        return s instanceof io.quarkus.arc.ClientProxy p ? p.arc_contextualInstance() : s;
    }
}
