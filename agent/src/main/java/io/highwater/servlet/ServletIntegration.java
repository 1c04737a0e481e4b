package io.highwater.servlet;

import io.highwater.core.Layer;
import io.highwater.core.Signal;
import io.highwater.instrument.Integration;

import java.util.Arrays;
import java.util.List;

/**
 * Servlet containers' own output streams, {@code javax.servlet} and {@code jakarta.servlet} alike, and where a
 * container's blocking write really waits: Tomcat, Jetty, Undertow. Layer {@code servlet}, signal
 * {@code output_not_ready}.
 */
public final class ServletIntegration implements Integration {

    public static final Layer LAYER = Layer.define("servlet");
    public static final Signal OUTPUT_NOT_READY = Signal.define("output_not_ready", LAYER);
    private static final String BOOTSTRAP = "io.highwater.servlet.bootstrap.";

    @Override
    public String name() {
        return "servlet";
    }

    @Override
    public Layer layer() {
        return LAYER;
    }

    @Override
    public String watching() {
        return ServletInstrumentation.watching();
    }

    @Override
    public List<String> bootstrapClasses() {
        // names, not class literals: this class is loaded before the bootstrap classes are defined
        return Arrays.asList(BOOTSTRAP + "ServletHooks", BOOTSTRAP + "ServletHooks$1", BOOTSTRAP + "ServletCalls");
    }

    @Override
    public Installed install(Context context) {
        return ServletInstall.install(context);
    }
}
