package io.sluice.output;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.sluice.config.OutputConfig;
import io.sluice.config.S3Config;
import io.vertx.mutiny.core.buffer.Buffer;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.enterprise.inject.Typed;
import org.jboss.logging.Logger;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.s3.presigner.model.GetObjectPresignRequest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Output store in an S3-compatible bucket ({@code sluice.output.kind=s3}).
 *
 * <p>Objects are {@code <keyPrefix>/<location>} where the location is the same relative name as the
 * local store's ({@code <tenant>/<jobId>/<kind>-<Type>-<index>-t<token>.ndjson}). A part is buffered
 * in one chunk of {@code upload-chunk-size} bytes; each full chunk is uploaded as one part of a
 * multipart upload (started with the first full chunk), so memory per open file is one chunk whatever
 * the file size. Finalize completes the upload (or, for a file smaller than a chunk, does one
 * PutObject): only then does the object exist, so a file is never visible half-written. Abort aborts
 * the upload. SHA-256 and byte count are computed while streaming.
 *
 * <p>All SDK calls are blocking (sync client) and run on the worker pool; results are handed back on
 * the caller's Vert.x context when there is one. SDK failures become {@link OutputStoreException}s
 * (transient for 5xx, throttling and unreachable store) in {@link S3Errors}.
 */
@Singleton
@Typed(S3OutputStore.class)
public class S3OutputStore implements OutputStore {

    private static final Logger LOG = Logger.getLogger(S3OutputStore.class);
    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern LOCATION = Pattern.compile(
            "[A-Za-z0-9][A-Za-z0-9._-]{0,63}/[0-9a-f-]{36}/(output|error|deleted)-[A-Za-z][A-Za-z0-9]{0,63}-[0-9]{5,10}-t[0-9]{1,19}\\.ndjson");
    private static final String CONTENT_TYPE = "application/fhir+ndjson";
    private static final int READ_BUFFER = 64 * 1024;
    /** SigV4 presigned URLs are valid for at most 7 days. */
    private static final Duration MAX_PRESIGN = Duration.ofDays(7);

    private final S3Client s3;
    private final S3Presigner presigner;
    private final S3Config config;
    private final String bucket;
    private final String prefix;
    private final int chunkSize;
    private final Executor workers;

    @Inject
    public S3OutputStore(S3Client s3, S3Presigner presigner, OutputConfig config) {
        this(s3, presigner, config.s3(), Infrastructure.getDefaultWorkerPool());
    }

    S3OutputStore(S3Client s3, S3Presigner presigner, S3Config config, Executor workers) {
        this.s3 = s3;
        this.presigner = presigner;
        this.config = config;
        this.bucket = config.bucket().filter(b -> !b.isBlank()).orElseThrow(() -> new IllegalStateException(
                "sluice.output.kind=s3 needs sluice.output.s3.bucket"));
        if (config.uploadChunkSize() < S3Config.MIN_CHUNK_SIZE || config.uploadChunkSize() > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("sluice.output.s3.upload-chunk-size must be between 5 MiB ("
                    + S3Config.MIN_CHUNK_SIZE + ") and 2 GiB, not " + config.uploadChunkSize());
        }
        if (config.deleteBatchSize() < 1 || config.deleteBatchSize() > 1000) {
            throw new IllegalStateException("sluice.output.s3.delete-batch-size must be 1..1000");
        }
        this.chunkSize = (int) config.uploadChunkSize();
        String p = config.keyPrefix().strip();
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        this.prefix = p.isEmpty() ? "" : p + "/";
        this.workers = workers;
        LOG.infof("output store: s3://%s/%s (chunk %d bytes, downloads %s)", bucket, prefix, chunkSize,
                config.download().name().toLowerCase());
    }

    /** The bucket written to. */
    public String bucket() {
        return bucket;
    }

    /** The object key of a location. */
    public String objectKey(String location) {
        if (location == null || !LOCATION.matcher(location).matches()) {
            throw new IllegalArgumentException("not a part location: " + location);
        }
        return prefix + location;
    }

    /** The key prefix (ending in '/') under which all objects of a job live. */
    public String jobPrefix(String tenant, UUID jobId) {
        if (tenant == null || !TENANT.matcher(tenant).matches()) {
            throw new IllegalArgumentException("tenant not usable in an object key: " + tenant);
        }
        return prefix + tenant + "/" + jobId + "/";
    }

    private String s3Url(String key) {
        return "s3://" + bucket + "/" + key;
    }

    /**
     * Runs a blocking SDK call on the worker pool and delivers its outcome back on the caller's Vert.x
     * context (when there is one); failures are translated. The subscription is signalled at once
     * (an emitter, not runSubscriptionOn), which stream adapters such as Vert.x's send(Multi) rely on.
     */
    private <T> Uni<T> blocking(Supplier<String> what, Supplier<T> call) {
        return Uni.createFrom().emitter(em -> {
            io.vertx.core.Context ctx = io.vertx.core.Vertx.currentContext();
            Runnable task = () -> {
                T value = null;
                Throwable failure = null;
                // the SDK looks up XML and HTTP services through the context class loader: make it this app's
                Thread thread = Thread.currentThread();
                ClassLoader previous = thread.getContextClassLoader();
                thread.setContextClassLoader(S3OutputStore.class.getClassLoader());
                try {
                    value = call.get();
                } catch (Throwable e) {
                    failure = S3Errors.translate(what.get(), e);
                } finally {
                    thread.setContextClassLoader(previous);
                }
                T v = value;
                Throwable f = failure;
                Runnable deliver = () -> {
                    if (f != null) {
                        em.fail(f);
                    } else {
                        em.complete(v);
                    }
                };
                if (ctx != null) {
                    ctx.runOnContext(x -> deliver.run());
                } else {
                    deliver.run();
                }
            };
            try {
                workers.execute(task);
            } catch (RuntimeException e) {
                em.fail(S3Errors.translate(what.get(), e));
            }
        });
    }

    // ------------------------------------------------------------------ writing

    @Override
    public Uni<PartWriter> open(PartKey key) {
        return Uni.createFrom().item(() -> (PartWriter) new S3PartWriter(key, LocalOutputStore.locationOf(key)));
    }

    /** A part being uploaded: one chunk buffer, a multipart upload once the first chunk is full. */
    private final class S3PartWriter implements PartWriter {
        private final PartKey key;
        private final String location;
        private final String objectKey;
        private final MessageDigest sha;
        private final List<CompletedPart> parts = new ArrayList<>();
        private byte[] chunk;
        private int fill;
        private volatile String uploadId;
        private volatile boolean closed;
        private volatile boolean completed;
        private volatile boolean finalizing;
        private long lines;
        private long bytes;

        S3PartWriter(PartKey key, String location) {
            this.key = key;
            this.location = location;
            this.objectKey = objectKey(location);
            try {
                this.sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Uni<Void> write(Buffer data, long lineCount) {
            if (closed) {
                return Uni.createFrom().failure(new IllegalStateException("part already finalized or aborted"));
            }
            lines += lineCount;
            bytes += data.length();
            return append(data.getDelegate(), 0);
        }

        /** Copies {@code src[from..]} into the chunk (hashing it on the way), uploading each chunk that fills up. */
        private Uni<Void> append(io.vertx.core.buffer.Buffer src, int from) {
            if (chunk == null) {
                chunk = new byte[chunkSize];
            }
            int n = Math.min(src.length() - from, chunk.length - fill);
            src.getBytes(from, from + n, chunk, fill);
            sha.update(chunk, fill, n);
            fill += n;
            if (fill < chunk.length) {
                return Uni.createFrom().voidItem();
            }
            int next = from + n;
            return uploadChunk().chain(() -> next < src.length() ? append(src, next) : Uni.createFrom().voidItem());
        }

        private Uni<Void> uploadChunk() {
            int length = fill;
            byte[] body = chunk;
            int partNumber = parts.size() + 1;
            return blocking(() -> "S3 upload of part " + partNumber + " of " + s3Url(objectKey), () -> {
                if (closed && !finalizing) {
                    throw new IllegalStateException("part aborted");
                }
                if (uploadId == null) {
                    String id = s3.createMultipartUpload(CreateMultipartUploadRequest.builder()
                            .bucket(bucket).key(objectKey).contentType(CONTENT_TYPE)
                            .checksumAlgorithm(ChecksumAlgorithm.CRC32).build()).uploadId();
                    uploadId = id;
                    if (closed && !finalizing) {
                        // aborted while the upload was being created: do not leave it behind
                        abortQuietly(id);
                        throw new IllegalStateException("part aborted");
                    }
                }
                UploadPartResponse r = s3.uploadPart(UploadPartRequest.builder()
                                .bucket(bucket).key(objectKey).uploadId(uploadId).partNumber(partNumber)
                                .contentLength((long) length).checksumAlgorithm(ChecksumAlgorithm.CRC32).build(),
                        RequestBody.fromContentProvider(() -> new ByteArrayInputStream(body, 0, length), length,
                                "application/octet-stream"));
                return CompletedPart.builder().partNumber(partNumber).eTag(r.eTag()).checksumCRC32(r.checksumCRC32())
                        .build();
            }).invoke(part -> {
                parts.add(part);
                fill = 0;
            }).replaceWithVoid();
        }

        @Override
        public Uni<FinalizedPart> finalizePart() {
            if (closed) {
                return Uni.createFrom().failure(new IllegalStateException("part already finalized or aborted"));
            }
            closed = true;
            finalizing = true;
            FinalizedPart done = new FinalizedPart(key, location, lines, bytes, HexFormat.of().formatHex(sha.digest()));
            Uni<Void> upload;
            if (uploadId == null) {
                byte[] body = chunk == null ? new byte[0] : chunk;
                int length = fill;
                upload = blocking(() -> "S3 upload of " + s3Url(objectKey), () -> s3.putObject(PutObjectRequest.builder()
                                .bucket(bucket).key(objectKey).contentType(CONTENT_TYPE).contentLength((long) length)
                                .checksumAlgorithm(ChecksumAlgorithm.CRC32).build(),
                        RequestBody.fromContentProvider(() -> new ByteArrayInputStream(body, 0, length), length, CONTENT_TYPE)))
                        .replaceWithVoid();
            } else {
                Uni<Void> last = fill > 0 ? uploadChunk() : Uni.createFrom().voidItem();
                upload = last.chain(() -> blocking(() -> "S3 completion of the multipart upload of " + s3Url(objectKey),
                        () -> s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder()
                                .bucket(bucket).key(objectKey).uploadId(uploadId)
                                .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()).build())))
                        .replaceWithVoid();
            }
            return upload.invoke(() -> {
                        completed = true;
                        chunk = null;
                    })
                    .onFailure().call(e -> {
                        finalizing = false;
                        return abortUpload();
                    })
                    .replaceWith(done);
        }

        @Override
        public Uni<Void> abort() {
            closed = true;
            chunk = null;
            if (completed) {
                return Uni.createFrom().voidItem();
            }
            return abortUpload();
        }

        private Uni<Void> abortUpload() {
            String id = uploadId;
            if (id == null || completed) {
                return Uni.createFrom().voidItem();
            }
            uploadId = null;
            return blocking(() -> "S3 abort of the multipart upload of " + s3Url(objectKey), () -> {
                abortQuietly(id);
                return null;
            }).replaceWithVoid()
                    .onFailure().invoke(e -> LOG.warnf("could not abort upload %s of %s (deleteJob or a bucket lifecycle"
                            + " rule removes it later): %s", id, s3Url(objectKey), e.getMessage()))
                    .onFailure().recoverWithNull();
        }

        private void abortQuietly(String id) {
            try {
                s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(objectKey).uploadId(id).build());
            } catch (NoSuchUploadException e) {
                // already gone
            }
        }
    }

    // ------------------------------------------------------------------ reading

    @Override
    public Multi<Buffer> read(String location, long offset, long length) {
        if (length == 0) {
            return Multi.createFrom().empty();
        }
        return Multi.createFrom().deferred(() -> {
            String key = objectKey(location);
            long start = Math.max(0, offset);
            String range = start == 0 && length < 0 ? null
                    : "bytes=" + start + "-" + (length < 0 ? "" : String.valueOf(start + length - 1));
            Uni<ResponseInputStream<GetObjectResponse>> open = blocking(() -> "S3 download of " + s3Url(key),
                    () -> s3.getObject(GetObjectRequest.builder().bucket(bucket).key(key).range(range).build()));
            return open.onItem().transformToMulti(in -> Multi.createBy().repeating()
                    .uni(() -> blocking(() -> "S3 download of " + s3Url(key), () -> readChunk(in, key)))
                    .until(b -> b.length() == 0)
                    .onTermination().invoke((failure, cancelled) -> {
                        if (failure != null || cancelled) {
                            in.abort(); // do not drain the rest of a large object
                        }
                        closeQuietly(in);
                    }));
        });
    }

    private static Buffer readChunk(InputStream in, String key) {
        byte[] b = new byte[READ_BUFFER];
        try {
            int n = in.readNBytes(b, 0, b.length);
            return n <= 0 ? Buffer.buffer() : Buffer.buffer(n == b.length ? b : java.util.Arrays.copyOf(b, n));
        } catch (IOException e) {
            throw new OutputStoreException("S3 download of " + key + " failed: " + e.getMessage(), true, e);
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException | RuntimeException ignored) {
            // the stream was used up or aborted
        }
    }

    @Override
    public Uni<Optional<Long>> size(String location) {
        return Uni.createFrom().deferred(() -> {
            String key = objectKey(location);
            return blocking(() -> "S3 HEAD of " + s3Url(key), () -> {
                try {
                    return Optional.of(s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(key).build()).contentLength());
                } catch (NoSuchKeyException e) {
                    return Optional.<Long>empty();
                } catch (S3Exception e) {
                    if (e.statusCode() == 404 && !isNoSuchBucket(e)) {
                        return Optional.<Long>empty();
                    }
                    throw e;
                }
            });
        });
    }

    private static boolean isNoSuchBucket(S3Exception e) {
        return e.awsErrorDetails() != null && "NoSuchBucket".equals(e.awsErrorDetails().errorCode());
    }

    @Override
    public Uni<Optional<String>> publicUrl(String location, Duration validFor) {
        if (config.download() != S3Config.Download.PRESIGNED) {
            return Uni.createFrom().item(Optional.empty());
        }
        return Uni.createFrom().deferred(() -> {
            String key = objectKey(location);
            Duration d = config.presignedUrlExpiry();
            if (validFor != null && validFor.compareTo(d) < 0) {
                d = validFor;
            }
            if (d.compareTo(MAX_PRESIGN) > 0) {
                d = MAX_PRESIGN;
            }
            if (d.compareTo(Duration.ofSeconds(1)) < 0) {
                d = Duration.ofSeconds(1);
            }
            Duration expiry = d;
            // presigning is local computation, but resolving credentials may do I/O the first time
            return blocking(() -> "S3 presigning of " + s3Url(key), () -> Optional.of(presigner.presignGetObject(
                    GetObjectPresignRequest.builder().signatureDuration(expiry)
                            .getObjectRequest(GetObjectRequest.builder().bucket(bucket).key(key).build())
                            .build()).url().toString()));
        });
    }

    // ------------------------------------------------------------------ deleting

    @Override
    public Uni<Void> deleteJob(String tenant, UUID jobId) {
        return Uni.createFrom().deferred(() -> {
            String jobPrefix = jobPrefix(tenant, jobId);
            return blocking(() -> "S3 deletion of " + s3Url(jobPrefix), () -> {
                abortUploads(jobPrefix);
                deleteObjects(jobPrefix, Set.of());
                return null;
            }).replaceWithVoid();
        });
    }

    @Override
    public Uni<Void> deleteUnrecorded(String tenant, UUID jobId, Set<String> recordedLocations) {
        return Uni.createFrom().deferred(() -> {
            String jobPrefix = jobPrefix(tenant, jobId);
            Set<String> keep = new java.util.HashSet<>();
            for (String l : recordedLocations) {
                keep.add(objectKey(l));
            }
            return blocking(() -> "S3 clean-up of " + s3Url(jobPrefix), () -> {
                abortUploads(jobPrefix);
                deleteObjects(jobPrefix, keep);
                return null;
            }).replaceWithVoid();
        });
    }

    /** Aborts every multipart upload in progress under {@code keyPrefix}. */
    private void abortUploads(String keyPrefix) {
        String keyMarker = null;
        String uploadIdMarker = null;
        while (true) {
            ListMultipartUploadsResponse page = s3.listMultipartUploads(ListMultipartUploadsRequest.builder()
                    .bucket(bucket).prefix(keyPrefix).keyMarker(keyMarker).uploadIdMarker(uploadIdMarker).build());
            for (MultipartUpload u : page.uploads()) {
                try {
                    s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(u.key())
                            .uploadId(u.uploadId()).build());
                } catch (NoSuchUploadException e) {
                    // completed or aborted meanwhile
                }
            }
            if (!Boolean.TRUE.equals(page.isTruncated())) {
                return;
            }
            keyMarker = page.nextKeyMarker();
            uploadIdMarker = page.nextUploadIdMarker();
        }
    }

    /** Deletes every object under {@code keyPrefix} but those in {@code keep}, in DeleteObjects batches. */
    private void deleteObjects(String keyPrefix, Set<String> keep) {
        List<ObjectIdentifier> batch = new ArrayList<>();
        for (S3Object o : s3.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).prefix(keyPrefix).build())
                .contents()) {
            if (keep.contains(o.key())) {
                continue;
            }
            batch.add(ObjectIdentifier.builder().key(o.key()).build());
            if (batch.size() >= config.deleteBatchSize()) {
                deleteBatch(batch);
                batch = new ArrayList<>();
            }
        }
        if (!batch.isEmpty()) {
            deleteBatch(batch);
        }
    }

    private void deleteBatch(List<ObjectIdentifier> keys) {
        DeleteObjectsResponse r = s3.deleteObjects(DeleteObjectsRequest.builder().bucket(bucket)
                .delete(Delete.builder().objects(keys).quiet(true).build()).build());
        if (r.hasErrors() && !r.errors().isEmpty()) {
            var e = r.errors().get(0);
            throw new OutputStoreException("S3 deletion of " + r.errors().size() + " objects failed, e.g. "
                    + s3Url(e.key()) + ": " + e.code() + " " + e.message(), false, null);
        }
    }
}
