package io.highwater.core;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * {@code backpressure.guard.actions}: what the guard did (or, observing, would have done), by layer, action, reason
 * and whether it was enforced. A fixed array, allocated only when the guard is on.
 */
public final class GuardCounts {

    public static final String[] ACTIONS = {"close", "fail"};
    public static final String[] REASONS = {"connection_limit", "stall", "memory"};
    private static final int PER_LAYER = ACTIONS.length * REASONS.length * 2;

    private final AtomicLongArray counts = new AtomicLongArray(Layer.MAX * PER_LAYER);

    /** One action; {@code action} and {@code reason} are indexes into {@link #ACTIONS} and {@link #REASONS}. */
    public void record(Layer layer, int action, int reason, boolean enforced) {
        counts.incrementAndGet(index(layer.index(), action, reason, enforced));
    }

    public long get(Layer layer, int action, int reason, boolean enforced) {
        return counts.get(index(layer.index(), action, reason, enforced));
    }

    private static int index(int layer, int action, int reason, boolean enforced) {
        return ((layer * ACTIONS.length + action) * REASONS.length + reason) * 2 + (enforced ? 1 : 0);
    }

    /** Receives the counts that are not 0. */
    public interface Visitor {
        void count(Layer layer, String action, String reason, boolean enforced, long value);
    }

    public void forEach(Visitor v) {
        for (int l = 0; l < Layer.MAX; l++) {
            for (int a = 0; a < ACTIONS.length; a++) {
                for (int r = 0; r < REASONS.length; r++) {
                    for (int e = 0; e < 2; e++) {
                        long n = counts.get(index(l, a, r, e == 1));
                        if (n > 0) {
                            v.count(Layer.byIndex(l), ACTIONS[a], REASONS[r], e == 1, n);
                        }
                    }
                }
            }
        }
    }
}
