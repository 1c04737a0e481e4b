package io.highwater.websocket;

import io.highwater.core.Layer;
import io.highwater.core.Signal;
import io.highwater.instrument.Integration;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Jakarta WebSocket sends on Tomcat 11 and Jetty 12: Tomcat's refusal of a send while the previous one is still
 * pending, Tomcat's non-blocking writes waiting for the socket, the queue Jetty keeps per session in front of its
 * connection, and the buffer of Spring's {@code ConcurrentWebSocketSessionDecorator} with its limit. Layer {@code websocket}, signal {@code send_pending}. See docs/integrations/websocket.md.
 */
public final class WebSocketIntegration implements Integration {

    public static final Layer LAYER = Layer.define("websocket");
    public static final Signal SEND_PENDING = Signal.define("send_pending", LAYER);
    /** Jetty: how many frames may be queued in a session before one more data send counts as ignored. */
    static final String TOLERANCE = "highwater.websocket.tolerance";
    /** Jetty: how many queued frames one reading of a session's bytes walks at most (beyond, extrapolated). */
    static final String WALK_MAX = "highwater.websocket.walk.max";
    private static final String BOOTSTRAP = "io.highwater.websocket.bootstrap.";

    @Override
    public String name() {
        return "websocket";
    }

    @Override
    public Layer layer() {
        return LAYER;
    }

    @Override
    public String watching() {
        return "tomcat-websocket 11.0.27, jetty-websocket-core 12.1.14, jetty-ee10-websocket-jakarta 12.1.14, spring-websocket 6.2.19 (ConcurrentWebSocketSessionDecorator)";
    }

    @Override
    public Map<String, String> settings() {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put(TOLERANCE, "16");
        m.put(WALK_MAX, "65536");
        return Collections.unmodifiableMap(m);
    }

    @Override
    public List<String> bootstrapClasses() {
        return Arrays.asList(BOOTSTRAP + "WebSocketHooks", BOOTSTRAP + "WebSocketHooks$1",
                BOOTSTRAP + "WebSocketCalls");
    }

    @Override
    public Installed install(Context context) {
        return WebSocketInstall.install(context);
    }
}
