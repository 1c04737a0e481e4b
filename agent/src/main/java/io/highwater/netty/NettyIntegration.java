package io.highwater.netty;

import io.highwater.core.Layer;
import io.highwater.core.Signal;
import io.highwater.instrument.Integration;

import java.util.Arrays;
import java.util.List;

/**
 * Netty 4.1 and 4.2, and every copy of it relocated into another package: a write is judged where it enters a
 * pipeline ({@code AbstractChannelHandlerContext}), pending bytes, writability and drains come from
 * {@code ChannelOutboundBuffer}. Layer {@code netty}, signal {@code channel_unwritable}.
 */
public final class NettyIntegration implements Integration {

    public static final Layer LAYER = Layer.define("netty");
    public static final Signal CHANNEL_UNWRITABLE = Signal.define("channel_unwritable", LAYER);
    private static final String BOOTSTRAP = "io.highwater.netty.bootstrap.";

    @Override
    public String name() {
        return "netty";
    }

    @Override
    public Layer layer() {
        return LAYER;
    }

    @Override
    public String watching() {
        return "netty 4.1.100-4.2.18 and its relocated copies";
    }

    @Override
    public List<String> bootstrapClasses() {
        // names, not class literals: this class is loaded before the bootstrap classes are defined
        return Arrays.asList(BOOTSTRAP + "NettyHooks", BOOTSTRAP + "NettyHooks$1", BOOTSTRAP + "NettyCalls");
    }

    @Override
    public Installed install(Context context) {
        return NettyInstall.install(context);
    }
}
