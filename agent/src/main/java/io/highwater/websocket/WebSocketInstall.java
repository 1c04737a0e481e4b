package io.highwater.websocket;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.Integration;
import io.highwater.websocket.bootstrap.WebSocketCalls;
import io.highwater.websocket.bootstrap.WebSocketHooks;

import java.util.Arrays;
import java.util.List;

/** {@link WebSocketIntegration#install}: a class of its own, as it names bootstrap types. */
final class WebSocketInstall {

    private WebSocketInstall() {
    }

    static Integration.Installed install(Integration.Context context) {
        int tolerance = context.settings().integer(WebSocketIntegration.TOLERANCE, 0, Integer.MAX_VALUE);
        int walkMax = context.settings().integer(WebSocketIntegration.WALK_MAX, 1, 1 << 24);
        WebSocketInstrumentation.Checked tomcatWrites = WebSocketInstrumentation.tomcatWrites(context.report());
        WebSocketAdapter adapter = new WebSocketAdapter(context.monitor(), tolerance, walkMax, tomcatWrites::applied);
        WebSocketCalls.hooks = adapter;
        List<AdviceTransformer.Target> targets = Arrays.asList(
                WebSocketInstrumentation.tomcatSends(context.report()),
                tomcatWrites,
                WebSocketInstrumentation.tomcatSocketWaits(context.report()),
                WebSocketInstrumentation.jettyFlusher(context.report()),
                WebSocketInstrumentation.jettySessionSends(context.report()),
                WebSocketInstrumentation.jettyJakartaSends(context.report()),
                WebSocketInstrumentation.jettyFutureWaits(context.report()),
                WebSocketInstrumentation.springDecorator(context.report()));
        return Integration.Installed.of(targets, adapter::tick, null, () -> {
            WebSocketCalls.hooks = WebSocketHooks.NOOP;
            adapter.reset();
            WebSocketCalls.waiting = 0;
            WebSocketCalls.tomcatBlocking = 0;
        });
    }
}
