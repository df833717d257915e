package io.sluice.output;

/**
 * An output store operation failed; the message names the operation, the object and the cause.
 * {@link #isTransient()} failures (unreachable store, 5xx, throttling) are worth retrying.
 */
public class OutputStoreException extends RuntimeException {

    private final boolean transientFailure;

    public OutputStoreException(String message, boolean transientFailure, Throwable cause) {
        super(message, cause);
        this.transientFailure = transientFailure;
    }

    /** Whether a retry may succeed. */
    public boolean isTransient() {
        return transientFailure;
    }
}
