package io.highwater.http2;

import io.highwater.http2.bootstrap.Http2Calls;
import io.highwater.http2.bootstrap.Http2Hooks;
import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.Integration;
import io.highwater.netty.NettyAdapter;

import java.util.List;

/** {@link Http2Integration#install}: a class of its own, as it names bootstrap types (see the integration's). */
final class Http2Install {

    private Http2Install() {
    }

    static Integration.Installed install(Integration.Context context) {
        Http2Adapter adapter = new Http2Adapter(context.monitor());
        Http2Calls.hooks = adapter;
        NettyAdapter.bufferless(adapter);
        List<AdviceTransformer.Target> targets = Http2Instrumentation.targets(context.report());
        return new Integration.Installed() {
            @Override
            public List<AdviceTransformer.Target> targets() {
                return targets;
            }

            @Override
            public void discoverAtAttach() {
                adapter.discoverAtAttach();
            }

            @Override
            public void stop() {
                Http2Calls.hooks = Http2Hooks.NOOP;
                NettyAdapter.bufferless(null);
            }
        };
    }
}
