package io.highwater.reactor;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.Integration;
import io.highwater.reactor.bootstrap.ReactorCalls;
import io.highwater.reactor.bootstrap.ReactorHooks;

import java.util.List;

/** {@link ReactorIntegration#install}: a class of its own, as it names bootstrap types. */
final class ReactorInstall {

    /**
     * Reactor Netty's inbound-only handler, through whose context its sends write: what a bounded send (64 elements
     * in flight) hands on was judged where the producer emitted it, in this layer.
     */
    static final String CLAIMED = "reactor.netty.channel.ChannelOperationsHandler";

    private ReactorInstall() {
    }

    static Integration.Installed install(Integration.Context context) {
        long mark = context.settings().integer(ReactorIntegration.MARK, 1, 1 << 24);
        ReactorCalls.hooks = new ReactorAdapter(context.monitor(), new ReactorAccess(), mark);
        context.frameworks().claimHandler(CLAIMED);
        List<AdviceTransformer.Target> targets = ReactorInstrumentation.targets(context.report());
        return new Integration.Installed() {
            @Override
            public List<AdviceTransformer.Target> targets() {
                return targets;
            }

            @Override
            public void stop() {
                ReactorCalls.hooks = ReactorHooks.NOOP;
                context.frameworks().unclaimHandler(CLAIMED);
            }
        };
    }
}
