package io.highwater.servlet;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.Integration;
import io.highwater.servlet.bootstrap.ServletCalls;
import io.highwater.servlet.bootstrap.ServletHooks;

import java.util.ArrayList;
import java.util.List;

/** {@link ServletIntegration#install}: a class of its own, as it names bootstrap types (see the integration's). */
final class ServletInstall {

    private ServletInstall() {
    }

    static Integration.Installed install(Integration.Context context) {
        ServletAdapter adapter = new ServletAdapter(context.monitor());
        ServletCalls.notReadyStreams.set(0);
        ServletCalls.blockedThreads.set(0);
        ServletCalls.hooks = adapter;
        List<AdviceTransformer.Target> targets = new ArrayList<>();
        for (ContainerPart part : ServletIntegration.PARTS) {
            targets.addAll(part.targets(context.report()));
        }
        return Integration.Installed.of(targets, adapter::tick, null, () -> {
            ServletCalls.hooks = ServletHooks.NOOP;
            adapter.reset();
        });
    }
}
