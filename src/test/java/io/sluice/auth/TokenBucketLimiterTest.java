package io.sluice.auth;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TokenBucketLimiterTest {

    @Test
    void burstThenSteadyRate() {
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        TokenBucketLimiter l = new TokenBucketLimiter(3, 6, clock::get); // one every 10 s
        assertEquals(0, l.acquire("a"));
        assertEquals(0, l.acquire("a"));
        assertEquals(0, l.acquire("a"));
        assertEquals(10, l.acquire("a"));
        assertEquals(0, l.acquire("b"), "keys are independent");
        clock.addAndGet(4_000_000_000L);
        assertEquals(6, l.acquire("a"));
        clock.addAndGet(6_000_000_000L);
        assertEquals(0, l.acquire("a"));
        assertEquals(10, l.acquire("a"));
        clock.addAndGet(3_600_000_000_000L);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, l.acquire("a"), "refilled to the burst, not beyond");
        }
        assertEquals(10, l.acquire("a"));
    }

    @Test
    void refusesNonsenseLimits() {
        assertThrows(IllegalArgumentException.class, () -> new TokenBucketLimiter(0, 10, System::nanoTime));
    }
}
