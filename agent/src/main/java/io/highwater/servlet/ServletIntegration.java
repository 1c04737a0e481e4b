package io.highwater.servlet;

import io.highwater.core.Layer;
import io.highwater.core.Signal;
import io.highwater.instrument.Integration;
import io.highwater.servlet.jetty.JettyPart;
import io.highwater.servlet.tomcat.TomcatPart;
import io.highwater.servlet.undertow.UndertowPart;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Servlet containers' own output streams, {@code javax.servlet} and {@code jakarta.servlet} alike, and where a
 * container's blocking write really waits: Tomcat, Jetty, Undertow. Layer {@code servlet}, signal
 * {@code output_not_ready}.
 *
 * <p>One integration with a part per container ({@link #PARTS}) rather than three integrations: the containers share
 * the layer, the signal, the bootstrap hooks, the adapter (a stream's readiness, refusals and blocking writes mean the
 * same everywhere) and the neutral stream advice; what differs (which classes, where a blocking write waits, how the
 * container's objects are read) is each part's, and each part's classes are checked on their own, so a container
 * version with a gap loses only its part.
 */
public final class ServletIntegration implements Integration {

    public static final Layer LAYER = Layer.define("servlet");
    public static final Signal OUTPUT_NOT_READY = Signal.define("output_not_ready", LAYER);
    private static final String BOOTSTRAP = "io.highwater.servlet.bootstrap.";

    /** The containers, each in a package of its own. */
    static final List<ContainerPart> PARTS = List.of(new TomcatPart(), new JettyPart(), new UndertowPart());

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
        // the start-up line's claim: only the container versions the tests run on
        List<String> tested = new ArrayList<>();
        for (ContainerPart p : PARTS) {
            tested.add(p.tested());
        }
        return "servlet containers (javax and jakarta): " + String.join("; ", tested);
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
