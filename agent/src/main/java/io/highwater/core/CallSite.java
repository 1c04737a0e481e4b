package io.highwater.core;

import java.util.concurrent.atomic.LongAdder;

/**
 * One value of {@code code.function.name} for one layer and signal, with the number of ignored writes
 * attributed to it. Instances are interned by {@link CallSites}, so identity comparison is fine.
 */
public final class CallSite {

    public static final String UNKNOWN = "unknown";
    public static final String OTHER = "other";

    private final Signal signal;
    private final String function;
    private final LongAdder writes = new LongAdder();

    CallSite(Signal signal, String function) {
        this.signal = signal;
        this.function = function;
    }

    public Signal signal() {
        return signal;
    }

    public String function() {
        return function;
    }

    public long writes() {
        return writes.sum();
    }

    void recordWrite() {
        writes.increment();
    }
}
