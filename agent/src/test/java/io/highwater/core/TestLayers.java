package io.highwater.core;

/** The layers and signals the model's tests use, named as the integrations name theirs. */
public final class TestLayers {

    public static final Layer NETTY = Layer.define("netty");
    public static final Layer SERVLET = Layer.define("servlet");
    public static final Layer SOCKET = Layer.define("socket");
    public static final Signal CHANNEL_UNWRITABLE = Signal.define("channel_unwritable", NETTY);
    public static final Signal OUTPUT_NOT_READY = Signal.define("output_not_ready", SERVLET);
    public static final Signal SOCKET_FULL = Signal.define("socket_full", SOCKET);

    private TestLayers() {
    }
}
