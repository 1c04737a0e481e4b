package io.highwater.grpc;

import io.highwater.grpc.bootstrap.GrpcCalls;
import io.highwater.grpc.bootstrap.GrpcHooks;
import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.Integration;

import java.util.List;

/** {@link GrpcIntegration#install}: a class of its own, as it names bootstrap types (see the integration's). */
final class GrpcInstall {

    private GrpcInstall() {
    }

    static Integration.Installed install(Integration.Context context) {
        GrpcAdapter adapter = new GrpcAdapter(context.monitor());
        GrpcCalls.notReadyCalls.set(0);
        GrpcCalls.hooks = adapter;
        List<AdviceTransformer.Target> targets = GrpcInstrumentation.targets(context.report());
        return new Integration.Installed() {
            @Override
            public List<AdviceTransformer.Target> targets() {
                return targets;
            }

            @Override
            public void tick() {
                adapter.tick();
            }

            @Override
            public void stop() {
                GrpcCalls.hooks = GrpcHooks.NOOP;
                adapter.reset();
            }
        };
    }
}
