package io.sluice.output;

import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.IOException;
import java.io.UncheckedIOException;

/** Translates AWS SDK failures into {@link OutputStoreException}s with a message naming the cause (once, here). */
final class S3Errors {

    private S3Errors() {
    }

    /** {@code what}: the operation and object, e.g. "S3 upload of s3://bucket/key". */
    static OutputStoreException translate(String what, Throwable t) {
        if (t instanceof OutputStoreException o) {
            return o;
        }
        if (t instanceof S3Exception s3) {
            int status = s3.statusCode();
            String code = s3.awsErrorDetails() != null ? s3.awsErrorDetails().errorCode() : null;
            String detail = s3.awsErrorDetails() != null && s3.awsErrorDetails().errorMessage() != null
                    ? s3.awsErrorDetails().errorMessage() : s3.getMessage();
            String reason = switch (code == null ? "" : code) {
                case "NoSuchBucket" -> "the bucket does not exist";
                case "AccessDenied", "AllAccessDisabled" -> "access denied by the object store";
                case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken" ->
                        "the object store refused the credentials";
                default -> detail;
            };
            boolean transientFailure = status >= 500 || status == 429 || "SlowDown".equals(code)
                    || "RequestTimeout".equals(code);
            return new OutputStoreException(what + " failed: " + reason + " (" + (code == null ? "" : code + ", ")
                    + "HTTP " + status + ")", transientFailure, t);
        }
        Throwable io = null;
        Throwable root = t;
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            root = c;
            if (io == null && (c instanceof IOException || c instanceof UncheckedIOException)) {
                io = c instanceof UncheckedIOException && c.getCause() != null ? c.getCause() : c;
            }
        }
        if (io != null) {
            // no answer from the store (refused, reset, timed out, unknown host): worth retrying
            return new OutputStoreException(what + " failed: object store unreachable ("
                    + io.getClass().getSimpleName() + ": " + io.getMessage() + ")", true, t);
        }
        if (t instanceof SdkClientException) {
            // e.g. no credentials found by the provider chain, no region configured
            return new OutputStoreException(what + " failed: " + root.getMessage(), false, t);
        }
        return new OutputStoreException(what + " failed: " + t, false, t);
    }
}
