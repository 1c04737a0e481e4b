package io.highwater.core;

/** The transport layer a backpressure signal came from: the {@code backpressure.layer} attribute. */
public enum Layer {
    NETTY("netty"),
    SERVLET("servlet"),
    SOCKET("socket");

    private final String id;

    Layer(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }
}
