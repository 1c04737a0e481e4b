package io.highwater.http2;

import io.highwater.core.Layer;
import io.highwater.core.Signal;
import io.highwater.instrument.Integration;

import java.util.Arrays;
import java.util.List;

/**
 * HTTP/2 on Netty ({@code codec-http2}), in Netty itself and its relocated copies: stream channels (the children of
 * {@code Http2MultiplexHandler}) have no outbound buffer of their own, their backlog sits in the connection's HTTP/2
 * flow controller; streams written through the encoder directly (no stream channel) are watched in the flow
 * controller itself ({@link FlowControllerStreams}). Layer {@code http2} (gRPC reports here too), signal {@code stream_window_exhausted}. Needs the
 * netty integration, whose pipeline advice judges every write.
 */
public final class Http2Integration implements Integration {

    public static final Layer LAYER = Layer.define("http2");
    public static final Signal STREAM_WINDOW_EXHAUSTED = Signal.define("stream_window_exhausted", LAYER);
    private static final String BOOTSTRAP = "io.highwater.http2.bootstrap.";

    @Override
    public String name() {
        return "http2";
    }

    @Override
    public Layer layer() {
        return LAYER;
    }

    @Override
    public String watching() {
        return "netty codec-http2 4.1.100-4.2.18 (stream channels, remote flow controller) and its relocated copies";
    }

    @Override
    public List<String> bootstrapClasses() {
        // names, not class literals: this class is loaded before the bootstrap classes are defined
        return Arrays.asList(BOOTSTRAP + "Http2Hooks", BOOTSTRAP + "Http2Hooks$1", BOOTSTRAP + "Http2Calls");
    }

    @Override
    public Installed install(Context context) {
        return Http2Install.install(context);
    }
}
