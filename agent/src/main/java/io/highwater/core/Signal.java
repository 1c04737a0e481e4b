package io.highwater.core;

/** The stop signal a write ignored: the {@code backpressure.signal} attribute. */
public enum Signal {
    CHANNEL_UNWRITABLE("channel_unwritable", Layer.NETTY),
    OUTPUT_NOT_READY("output_not_ready", Layer.SERVLET),
    SOCKET_FULL("socket_full", Layer.SOCKET);

    private final String id;
    private final Layer layer;

    Signal(String id, Layer layer) {
        this.id = id;
        this.layer = layer;
    }

    public String id() {
        return id;
    }

    public Layer layer() {
        return layer;
    }
}
