package io.sluice.config;

import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/**
 * The S3 output store (prefix {@code sluice.output.s3}). Endpoint, region, path-style access and
 * credentials are the Quarkus Amazon S3 client's own settings ({@code quarkus.s3.endpoint-override},
 * {@code quarkus.s3.aws.region}, {@code quarkus.s3.path-style-access}, {@code quarkus.s3.aws.credentials.*};
 * credentials default to the standard AWS provider chain).
 */
public interface S3Config {

    /** How clients download files. */
    enum Download { PROXY, PRESIGNED }

    /** Smallest part S3 accepts in a multipart upload (all parts but the last). */
    long MIN_CHUNK_SIZE = 5L * 1024 * 1024;

    /** The bucket export files are written to; required when {@code sluice.output.kind=s3}. */
    Optional<String> bucket();

    /** Key prefix in the bucket; objects are {@code <prefix>/<tenant>/<jobId>/<file>}. Empty for none. */
    @WithDefault("sluice")
    String keyPrefix();

    /**
     * Bytes buffered per open file before they are uploaded as one multipart-upload part (memory per
     * file being written); at least 5 MiB, the S3 minimum. Files smaller than this go up in one PutObject.
     */
    @WithDefault("8388608")
    long uploadChunkSize();

    /**
     * {@code proxy}: manifests list the server's own download URLs and files stream through the
     * server (bearer token needed when auth is on); {@code presigned}: manifests list presigned S3
     * GET URLs and {@code requiresAccessToken} is false.
     */
    @WithDefault("proxy")
    Download download();

    /**
     * Validity of presigned URLs; never longer than what remains of the job's retention (nor than
     * SigV4's 7 days). Clients fetch the manifest again for fresh URLs.
     */
    @WithDefault("PT1H")
    Duration presignedUrlExpiry();

    /** Keys deleted per DeleteObjects request when a job's files are removed (S3 allows at most 1000). */
    @WithDefault("1000")
    int deleteBatchSize();
}
