package io.highwater.core;

import java.util.concurrent.atomic.LongAdder;

/**
 * The transport-neutral heart of the agent: layers report what they saw, the monitor decides what it means
 * and keeps the counts that telemetry reads. One instance per installed agent.
 */
public final class Monitor {

    private final ConnectionRegistry registry;
    private final CallSites callSites;
    private final Dropped dropped;
    private final StackInspector inspector;
    private final RateLimiter captures;
    private final double tolerance;
    private final LongAdder[] ignoredBytes = new LongAdder[Signal.values().length];

    public Monitor(ConnectionRegistry registry, CallSites callSites, Dropped dropped, StackInspector inspector,
                   RateLimiter captures, double tolerance) {
        this.registry = registry;
        this.callSites = callSites;
        this.dropped = dropped;
        this.inspector = inspector;
        this.captures = captures;
        this.tolerance = tolerance;
        for (int i = 0; i < ignoredBytes.length; i++) {
            ignoredBytes[i] = new LongAdder();
        }
    }

    public ConnectionRegistry registry() {
        return registry;
    }

    public CallSites callSites() {
        return callSites;
    }

    public Dropped dropped() {
        return dropped;
    }

    /**
     * Whether a write made while the transport said stop goes beyond the tolerance: the bytes already pending
     * exceed the high-water mark by more than {@code tolerance} high-water marks.
     */
    public boolean beyondTolerance(long pendingBefore, long highWaterMark) {
        return pendingBefore > highWaterMark + (long) (tolerance * highWaterMark);
    }

    /**
     * Counts one ignored write of {@code bytes} and attributes it to the application frame on the current
     * thread. Stack walks are rate-limited; while limited, the connection's last attributed site is used, so
     * counts stay exact.
     *
     * @param connection the tracked connection, or null when the registry had no room for it
     */
    public void ignoredWrite(TrackedConnection connection, Signal signal, long bytes) {
        ignoredBytes[signal.ordinal()].add(bytes);
        CallSite site = connection != null ? connection.lastSite : null;
        if (captures.tryAcquire()) {
            StackInspector.Result r = inspector.inspect();
            if (r.function != null) {
                site = callSites.site(signal, r.function);
            } else if (r.submitted && connection != null && connection.submitSite != null) {
                site = connection.submitSite;
            } else {
                site = callSites.unknown(signal);
            }
            if (connection != null) {
                connection.lastSite = site;
            }
        } else if (site == null) {
            site = callSites.unknown(signal);
        }
        site.recordWrite();
    }

    /**
     * A write submitted from an application thread while the transport said stop: remember who made it, for
     * the moment the write reaches the transport on another thread.
     */
    public void ignoredSubmit(TrackedConnection connection, Signal signal) {
        if (captures.tryAcquire()) {
            connection.submitSite = callSites.site(signal, inspector.inspect().function);
        }
    }

    public long ignoredBytes(Signal signal) {
        return ignoredBytes[signal.ordinal()].sum();
    }
}
