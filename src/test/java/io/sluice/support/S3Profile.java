package io.sluice.support;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.List;
import java.util.Map;

/**
 * S3 output store on an s3mock process ({@link S3MockResource}, started for this profile only) with
 * presigned downloads, 5 MiB upload chunks (so a ~24 MB file spans several multipart parts), small
 * read pages (writes cross chunk boundaries) and a short retention (presigned URLs are capped by it).
 */
public class S3Profile implements QuarkusTestProfile {

    /** Retention of this profile: presigned URLs never outlive it. */
    public static final String RETENTION = "PT5M";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "sluice.output.s3.download", "presigned",
                "sluice.output.s3.upload-chunk-size", "5242880",
                "sluice.output.s3.presigned-url-expiry", "PT1H",
                "sluice.output.s3.key-prefix", "exports/test",
                "sluice.export.batch-size", "100",
                "sluice.export.retention", RETENTION,
                "sluice.export.output-dir", "target/s3-test-unused");
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(S3MockResource.class));
    }

    /** The same store with downloads proxied through the API, and quick retries for outage tests. */
    public static class Proxy extends S3Profile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> m = new java.util.HashMap<>(super.getConfigOverrides());
            m.put("sluice.output.s3.download", "proxy");
            m.put("sluice.export.transient-retries", "3");
            m.put("sluice.export.retry-base-delay", "PT0.1S");
            return m;
        }
    }
}
