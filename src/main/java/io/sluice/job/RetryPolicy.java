package io.sluice.job;

import java.time.Duration;
import java.util.Optional;

/**
 * When to retry a failed job run: transient failures (see {@link StoreErrors#isTransient}) are retried
 * with exponential backoff up to {@code maxRetries} times; anything else, or a lost lease, is not.
 * Pure: no clock, no randomness.
 *
 * @param maxRetries retries after the first failure
 * @param baseDelay  delay before the first retry; doubles each time
 * @param maxDelay   cap of a single delay
 */
public record RetryPolicy(int maxRetries, Duration baseDelay, Duration maxDelay) {

    /** The delay before retry number {@code retriesSoFar + 1}, or empty when the job should fail now. */
    public Optional<Duration> nextDelay(Throwable failure, int retriesSoFar) {
        if (failure instanceof LeaseLostException || retriesSoFar >= maxRetries || !StoreErrors.isTransient(failure)) {
            return Optional.empty();
        }
        long factor = 1L << Math.min(retriesSoFar, 20);
        Duration d = baseDelay.multipliedBy(factor);
        return Optional.of(d.compareTo(maxDelay) > 0 ? maxDelay : d);
    }
}
