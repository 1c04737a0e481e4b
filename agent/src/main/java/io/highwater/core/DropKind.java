package io.highwater.core;

/**
 * What the agent dropped: the {@code backpressure.dropped.kind} attribute. Most kinds are items a cap dropped;
 * {@link #EXPORT} is an export that did not reach the collector.
 */
public enum DropKind {
    SPAN("span"),
    CALL_SITE("call_site"),
    CONNECTION("connection"),
    /**
     * One export request (a metrics collection or a batch of spans) that did not reach the collector: refused,
     * timed out, rejected with an HTTP error, or not made at all (the previous one still waiting for a failing
     * collector, or no memory to make it).
     */
    EXPORT("export");

    private final String id;

    DropKind(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }
}
