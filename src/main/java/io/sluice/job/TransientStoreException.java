package io.sluice.job;

/** A failure worth retrying: dropped or refused connection, serialization failure, deadlock. */
public class TransientStoreException extends JobStoreException {

    public TransientStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
