package io.highwater.core;

import java.util.concurrent.atomic.LongAdder;

/** Counts what the agent's caps dropped, per {@link DropKind}: {@code backpressure.agent.dropped}. */
public final class Dropped {

    private final LongAdder[] counts = new LongAdder[DropKind.values().length];

    public Dropped() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    public void add(DropKind kind) {
        counts[kind.ordinal()].increment();
    }

    public void add(DropKind kind, long n) {
        counts[kind.ordinal()].add(n);
    }

    public long get(DropKind kind) {
        return counts[kind.ordinal()].sum();
    }
}
