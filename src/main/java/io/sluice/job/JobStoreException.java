package io.sluice.job;

/**
 * Root of the engine's store errors. Database failures are translated into this hierarchy once, at
 * the store boundary ({@link StoreErrors#translate}); the worker decides by type alone.
 */
public class JobStoreException extends RuntimeException {

    public JobStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public JobStoreException(String message) {
        super(message);
    }
}
