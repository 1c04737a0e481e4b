package io.highwater.core;

/**
 * The application's trace context (W3C ids) that was current on the thread that made a connection's first stop
 * or ignored write, so that the episode's span can link to the request that caused it.
 */
public final class TraceLink {

    public final String traceId;
    public final String spanId;
    public final boolean sampled;

    public TraceLink(String traceId, String spanId, boolean sampled) {
        this.traceId = traceId;
        this.spanId = spanId;
        this.sampled = sampled;
    }

    /** Reads the current thread's trace context; implementations never throw and return null when there is none. */
    public interface Probe {
        TraceLink current();

        Probe NONE = new Probe() {
            @Override
            public TraceLink current() {
                return null;
            }
        };
    }
}
