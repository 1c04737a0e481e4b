package io.highwater.core;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A lock-free token bucket: at most {@code perSecond} permits per second, with a burst of the same size.
 * Thread-safe.
 */
public final class RateLimiter {

    private final long nanosPerPermit;
    private final long burstNanos;
    /** The moment the bucket would be full again; permits are taken by moving it forward. */
    private final AtomicLong fullAt;
    private final Clock clock;

    public RateLimiter(int perSecond, Clock clock) {
        this.nanosPerPermit = perSecond <= 0 ? Long.MAX_VALUE : 1_000_000_000L / perSecond;
        this.burstNanos = perSecond <= 0 ? 0 : nanosPerPermit * perSecond;
        this.clock = clock;
        this.fullAt = new AtomicLong(clock.nanoTime() - burstNanos);
    }

    public boolean tryAcquire() {
        if (nanosPerPermit == Long.MAX_VALUE) {
            return false;
        }
        long now = clock.nanoTime();
        for (;;) {
            long current = fullAt.get();
            long base = Math.max(current, now - burstNanos);
            long next = base + nanosPerPermit;
            if (next - now > 0) {
                return false;
            }
            if (fullAt.compareAndSet(current, next)) {
                return true;
            }
        }
    }
}
