package io.highwater.vertx;

import io.highwater.core.Layer;
import io.highwater.core.Signal;
import io.highwater.instrument.Integration;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Vert.x 5 and 4.5: the outbound queue Vert.x 5 keeps per connection and per HTTP/2 stream in front of Netty, and
 * the application's writes while {@code writeQueueFull()} is true, in both lines. Layer {@code vertx}, signal
 * {@code write_queue_full}. See docs/integrations/vertx.md.
 */
public final class VertxIntegration implements Integration {

    public static final Layer LAYER = Layer.define("vertx");
    public static final Signal WRITE_QUEUE_FULL = Signal.define("write_queue_full", LAYER);
    static final String WALK_MAX = "highwater.vertx.walk.max";
    private static final String BOOTSTRAP = "io.highwater.vertx.bootstrap.";

    @Override
    public String name() {
        return "vertx";
    }

    @Override
    public Layer layer() {
        return LAYER;
    }

    @Override
    public String watching() {
        return "vert.x 5.0.7 and 4.5.27";
    }

    @Override
    public Map<String, String> settings() {
        return Collections.singletonMap(WALK_MAX, "65536");
    }

    @Override
    public List<String> bootstrapClasses() {
        return Arrays.asList(BOOTSTRAP + "VertxHooks", BOOTSTRAP + "VertxHooks$1", BOOTSTRAP + "VertxCalls");
    }

    @Override
    public Installed install(Context context) {
        return VertxInstall.install(context);
    }
}
