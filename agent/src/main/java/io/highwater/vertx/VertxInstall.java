package io.highwater.vertx;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.Integration;
import io.highwater.vertx.bootstrap.VertxCalls;
import io.highwater.vertx.bootstrap.VertxHooks;

import java.util.Arrays;
import java.util.List;

/** {@link VertxIntegration#install}: a class of its own, as it names bootstrap types. */
final class VertxInstall {

    /**
     * The handler through whose context Vert.x hands every connection write to Netty (both lines), and Vert.x 4.5's
     * HTTP/2 handler: writes through them are Vert.x's forwarding of a call judged here, not the application's.
     */
    static final List<String> CLAIMED = Arrays.asList(
            "io.vertx.core.net.impl.VertxHandler", "io.vertx.core.http.impl.VertxHttp2ConnectionHandler");

    private VertxInstall() {
    }

    static Integration.Installed install(Integration.Context context) {
        VertxAccess access = new VertxAccess(context.settings().integer(VertxIntegration.WALK_MAX, 1, 1 << 24));
        VertxCalls.hooks = new VertxAdapter(context.monitor(), access);
        for (String handler : CLAIMED) {
            context.frameworks().claimHandler(handler);
        }
        List<AdviceTransformer.Target> targets = Arrays.asList(VertxInstrumentation.queueTarget(context.report()),
                VertxInstrumentation.connectionTarget(context.report()));
        return new Integration.Installed() {
            @Override
            public List<AdviceTransformer.Target> targets() {
                return targets;
            }

            @Override
            public void stop() {
                VertxCalls.hooks = VertxHooks.NOOP;
                for (String handler : CLAIMED) {
                    context.frameworks().unclaimHandler(handler);
                }
            }
        };
    }
}
