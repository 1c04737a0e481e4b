package io.highwater.grpc;

import io.highwater.core.Layer;
import io.highwater.core.Signal;
import io.highwater.http2.Http2Integration;
import io.highwater.instrument.Integration;

import java.util.Arrays;
import java.util.List;

/**
 * grpc-java over grpc-netty and grpc-netty-shaded, server and client: a message sent while its call is not ready
 * ({@code isReady()} false, beyond the tolerance) is an ignored write, {@code call_not_ready}; a call's pending bytes
 * are gRPC's own count of what it handed to the transport and was not written yet. gRPC is HTTP/2: it reports in
 * layer {@code http2}, each call a stream of its Netty channel.
 */
public final class GrpcIntegration implements Integration {

    public static final Layer LAYER = Http2Integration.LAYER;
    public static final Signal CALL_NOT_READY = Signal.define("call_not_ready", LAYER);
    private static final String BOOTSTRAP = "io.highwater.grpc.bootstrap.";

    @Override
    public String name() {
        return "grpc";
    }

    @Override
    public Layer layer() {
        return LAYER;
    }

    @Override
    public String watching() {
        return "grpc-java 1.85 (grpc-core: server and client calls, over grpc-netty and grpc-netty-shaded)";
    }

    @Override
    public List<String> bootstrapClasses() {
        // names, not class literals: this class is loaded before the bootstrap classes are defined
        return Arrays.asList(BOOTSTRAP + "GrpcHooks", BOOTSTRAP + "GrpcHooks$1", BOOTSTRAP + "GrpcCalls");
    }

    @Override
    public Installed install(Context context) {
        return GrpcInstall.install(context);
    }
}
