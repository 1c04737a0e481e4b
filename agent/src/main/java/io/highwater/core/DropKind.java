package io.highwater.core;

/** What a cap made the agent drop: the {@code backpressure.dropped.kind} attribute. */
public enum DropKind {
    SPAN("span"),
    CALL_SITE("call_site"),
    CONNECTION("connection");

    private final String id;

    DropKind(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }
}
