package io.highwater.agent;

import io.highwater.grpc.GrpcIntegration;
import io.highwater.http2.Http2Integration;
import io.highwater.instrument.Integration;
import io.highwater.netty.NettyIntegration;
import io.highwater.reactor.ReactorIntegration;
import io.highwater.servlet.ServletIntegration;
import io.highwater.socket.SocketIntegration;
import io.highwater.vertx.VertxIntegration;
import io.highwater.websocket.WebSocketIntegration;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every integration the agent has: adding one is its package and one line here. */
final class Integrations {

    private Integrations() {
    }

    static List<Integration> all() {
        return Arrays.asList(
                new NettyIntegration(),
                new Http2Integration(),
                new GrpcIntegration(),
                new ServletIntegration(),
                new SocketIntegration(),
                new VertxIntegration(),
                new ReactorIntegration(),
                new WebSocketIntegration());
    }

    /**
     * What goes into the boot class loader, supertypes first: the agent's {@code Bridge}, then every integration's
     * hooks (disabled ones too: a few hundred bytes each, and a later attach with other settings finds them there).
     */
    static List<String> bootstrapClasses(List<Integration> integrations) {
        List<String> out = new ArrayList<>();
        for (Integration i : integrations) {
            out.addAll(i.bootstrapClasses());
        }
        out.add("io.highwater.bootstrap.Bridge");
        return out;
    }

    /** Each integration's switch ({@code highwater.<name>.enabled}, on by default) and its own settings. */
    static Map<String, String> settings(List<Integration> integrations) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Integration i : integrations) {
            out.put("highwater." + i.name() + ".enabled", "true");
            out.putAll(i.settings());
        }
        return out;
    }
}
