package io.highwater.reactor;

import io.highwater.core.Layer;
import io.highwater.core.Signal;
import io.highwater.instrument.Integration;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Reactor: the unbounded queues a producer fills while its subscriber asked for nothing ({@code Flux.create} and
 * {@code Flux.push} sinks in BUFFER mode, {@code Sinks.many().unicast().onBackpressureBuffer()}, the
 * {@code onBackpressureBuffer()} operator, a multicast sink's queue) and the emissions a bounded
 * {@code Sinks.many().multicast().onBackpressureBuffer()} refuses; the queue behind Spring WebFlux and
 * Reactor Netty. Layer {@code reactor}, signal {@code demand_exhausted}. See docs/integrations/reactor.md.
 */
public final class ReactorIntegration implements Integration {

    public static final Layer LAYER = Layer.define("reactor");
    public static final Signal DEMAND_EXHAUSTED = Signal.define("demand_exhausted", LAYER);
    static final String MARK = "highwater.reactor.mark.items";
    private static final String BOOTSTRAP = "io.highwater.reactor.bootstrap.";

    @Override
    public String name() {
        return "reactor";
    }

    @Override
    public Layer layer() {
        return LAYER;
    }

    @Override
    public String watching() {
        return "reactor-core 3.7.12-3.7.17 (reactor-netty 1.2.11-1.2.16, Spring Boot 3.5.7 WebFlux)";
    }

    @Override
    public Map<String, String> settings() {
        // two of Reactor Netty's prefetch windows, Reactor's own small buffer size
        return Collections.singletonMap(MARK, "256");
    }

    @Override
    public List<String> bootstrapClasses() {
        return Arrays.asList(BOOTSTRAP + "ReactorHooks", BOOTSTRAP + "ReactorHooks$1", BOOTSTRAP + "ReactorCalls");
    }

    @Override
    public Installed install(Context context) {
        return ReactorInstall.install(context);
    }
}
