package io.sluice.job;

/** A kick-off refused because the tenant or the client already has the most active jobs allowed. */
public class TooManyJobsException extends RuntimeException {

    public TooManyJobsException(String message) {
        super(message, null, false, false);
    }
}
