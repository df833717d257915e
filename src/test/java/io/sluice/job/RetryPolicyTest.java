package io.sluice.job;

import io.vertx.pgclient.PgException;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

class RetryPolicyTest {

    private final RetryPolicy policy = new RetryPolicy(3, Duration.ofMillis(100), Duration.ofMillis(250));

    @Test
    void transientFailuresBackOffExponentiallyUpToTheCap() {
        Throwable dropped = StoreErrors.translate(new io.vertx.core.VertxException("Connection was closed"));
        assertInstanceOf(TransientStoreException.class, dropped);
        assertEquals(Optional.of(Duration.ofMillis(100)), policy.nextDelay(dropped, 0));
        assertEquals(Optional.of(Duration.ofMillis(200)), policy.nextDelay(dropped, 1));
        assertEquals(Optional.of(Duration.ofMillis(250)), policy.nextDelay(dropped, 2), "capped at maxDelay");
        assertEquals(Optional.empty(), policy.nextDelay(dropped, 3), "gives up after maxRetries");
    }

    @Test
    void classifiesCauses() {
        assertTrue(StoreErrors.isTransient(new ConnectException("Connection refused")));
        assertTrue(StoreErrors.isTransient(new PgException("could not serialize", "ERROR", "40001", null)));
        assertTrue(StoreErrors.isTransient(new PgException("deadlock detected", "ERROR", "40P01", null)));
        assertTrue(StoreErrors.isTransient(new PgException("terminating connection due to administrator command",
                "FATAL", "57P01", null)));
        assertTrue(StoreErrors.isTransient(new RuntimeException("wrapped", new PgException("x", "FATAL", "08006", null))));
        assertFalse(StoreErrors.isTransient(new PgException("syntax error", "ERROR", "42601", null)));
        assertFalse(StoreErrors.isTransient(new PgException("unique violation", "ERROR", "23505", null)));
        assertFalse(StoreErrors.isTransient(new IllegalStateException("bug")));
        assertTrue(StoreErrors.isTransient(new io.vertx.core.impl.NoStackTraceThrowable(
                "Connection is not active now, current status: CLOSED")));
    }

    @Test
    void permanentAndLeaseLossAreNeverRetried() {
        assertEquals(Optional.empty(), policy.nextDelay(new PgException("bad", "ERROR", "42P01", null), 0));
        assertEquals(Optional.empty(), policy.nextDelay(
                new LeaseLostException(UUID.randomUUID(), LeaseLostException.Reason.RECLAIMED), 0));
        assertEquals(Optional.empty(), policy.nextDelay(new IllegalArgumentException("x"), 0));
    }

    @Test
    void translationNamesTheCause() {
        Throwable t = StoreErrors.translate(new PgException("relation \"x\" does not exist", "ERROR", "42P01", null));
        assertInstanceOf(JobStoreException.class, t);
        assertFalse(t instanceof TransientStoreException);
        assertTrue(StoreErrors.describe(t).contains("does not exist"), StoreErrors.describe(t));
        LeaseLostException lost = new LeaseLostException(UUID.randomUUID(), LeaseLostException.Reason.CANCELLED);
        assertSame(lost, StoreErrors.translate(lost));
    }
}
