package io.highwater.telemetry;

/**
 * When to try again something that failed for lack of memory: after a delay that doubles with every failure in a
 * row (from {@code initial} up to {@code max}), or at once when memory was freed meanwhile. A success starts over.
 *
 * <p>Times are a monotonic clock's nanoseconds, handed in by the caller. Not thread-safe: one owner thread (the
 * agent's timer) drives it. Allocates nothing.
 */
public final class Retry {

    private final long initialNanos;
    private final long maxNanos;
    private int failures;
    private long delayNanos;
    private long notBeforeNanos;

    public Retry(long initialNanos, long maxNanos) {
        if (initialNanos <= 0 || maxNanos < initialNanos) {
            throw new IllegalArgumentException("0 < initial <= max, not " + initialNanos + ", " + maxNanos);
        }
        this.initialNanos = initialNanos;
        this.maxNanos = maxNanos;
    }

    /** Records a failure at {@code now}: the next try is due one (doubled) delay later. */
    public void failed(long now) {
        failures++;
        later(now);
    }

    /** A due try was not made (memory has not been freed yet): it is due one (doubled) delay later. */
    public void postponed(long now) {
        if (failures > 0) {
            later(now);
        }
    }

    private void later(long now) {
        delayNanos = delayNanos == 0 ? initialNanos : Math.min(maxNanos, delayNanos * 2);
        notBeforeNanos = now + delayNanos;
    }

    /** Records a success: nothing is pending any more, and the next failure waits the initial delay again. */
    public void succeeded() {
        failures = 0;
        delayNanos = 0;
    }

    /** Memory was freed: a pending try is due at once, and its delay starts over if it fails again. */
    public void memoryFreed(long now) {
        if (failures > 0) {
            notBeforeNanos = now;
            delayNanos = 0;
        }
    }

    /** True when something failed and its next try is due at {@code now}. */
    public boolean due(long now) {
        return failures > 0 && now - notBeforeNanos >= 0;
    }

    /** Failures in a row since the last success. */
    public int failures() {
        return failures;
    }

    /** The delay before the pending try, in nanoseconds (0 when nothing is pending). */
    public long delayNanos() {
        return failures > 0 ? delayNanos : 0;
    }
}
