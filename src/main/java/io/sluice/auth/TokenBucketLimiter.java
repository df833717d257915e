package io.sluice.auth;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * In-memory token buckets keyed by a string (a client id or a remote address). Each key may burst
 * {@code burst} requests and then {@code perMinute} requests per minute. Per replica: with N replicas a
 * client gets up to N times the rate, which still stops brute force. Idle full buckets are evicted.
 */
public final class TokenBucketLimiter {

    /** Most keys tracked; beyond it, full (idle) buckets are dropped first. */
    private static final int MAX_KEYS = 100_000;

    private final double burst;
    private final double perNano;
    private final LongSupplier nanoClock;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    private static final class Bucket {
        double tokens;
        long updatedNanos;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.updatedNanos = now;
        }
    }

    public TokenBucketLimiter(int burst, int perMinute, LongSupplier nanoClock) {
        if (burst < 1 || perMinute < 1) {
            throw new IllegalArgumentException("rate limit burst and per-minute must be at least 1");
        }
        this.burst = burst;
        this.perNano = perMinute / 60e9;
        this.nanoClock = nanoClock;
    }

    /**
     * Takes one request from the key's bucket.
     *
     * @return 0 when allowed, else the whole seconds (at least 1) until the next request would be
     */
    public long acquire(String key) {
        long now = nanoClock.getAsLong();
        if (buckets.size() >= MAX_KEYS) {
            evictFull(now);
        }
        Bucket b = buckets.computeIfAbsent(key, k -> new Bucket(burst, now));
        synchronized (b) {
            refill(b, now);
            if (b.tokens >= 1) {
                b.tokens -= 1;
                return 0;
            }
            double missingNanos = (1 - b.tokens) / perNano;
            return Math.max(1, (long) Math.ceil(missingNanos / 1e9));
        }
    }

    private void refill(Bucket b, long now) {
        long elapsed = Math.max(0, now - b.updatedNanos);
        b.tokens = Math.min(burst, b.tokens + elapsed * perNano);
        b.updatedNanos = now;
    }

    private void evictFull(long now) {
        for (Iterator<Bucket> it = buckets.values().iterator(); it.hasNext(); ) {
            Bucket b = it.next();
            synchronized (b) {
                refill(b, now);
                if (b.tokens >= burst) {
                    it.remove();
                }
            }
        }
    }

    /** Number of keys tracked (for tests). */
    int size() {
        return buckets.size();
    }
}
