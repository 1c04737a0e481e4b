package io.highwater.netty;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.Integration;
import io.highwater.netty.bootstrap.NettyCalls;
import io.highwater.netty.bootstrap.NettyHooks;

import java.util.Arrays;
import java.util.List;

/** {@link NettyIntegration#install}: a class of its own, as it names bootstrap types (see the integration's). */
final class NettyInstall {

    private NettyInstall() {
    }

    static Integration.Installed install(Integration.Context context) {
        NettyAdapter adapter = new NettyAdapter(context.monitor());
        NettyCalls.hooks = adapter;
        // what a channel's outbound buffer holds under another layer's entry (a Reactor queue, an HTTP/2 stream)
        context.monitor().addShare(adapter.access());
        List<AdviceTransformer.Target> targets = Arrays.asList(NettyInstrumentation.target(context.report()),
                NettyInstrumentation.pipelineTarget(context.report()));
        return Integration.Installed.of(targets, adapter::tick, adapter::discoverAtAttach, () -> {
            NettyCalls.hooks = NettyHooks.NOOP;
            adapter.stop();
            context.monitor().removeShare(adapter.access());
        });
    }
}
