package io.highwater.socket;

import io.highwater.core.Layer;
import io.highwater.core.Signal;
import io.highwater.instrument.Integration;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The JDK's own sockets (JDK 13 and later): {@code java.net.Socket} streams, blocking and non-blocking
 * {@code SocketChannel}s, selectors' ready keys. Layer {@code socket}, signal {@code socket_full}.
 */
public final class SocketIntegration implements Integration {

    public static final Layer LAYER = Layer.define("socket");
    public static final Signal SOCKET_FULL = Signal.define("socket_full", LAYER);

    private static final String BOOTSTRAP = "io.highwater.socket.bootstrap.";

    @Override
    public String name() {
        return "socket";
    }

    @Override
    public Layer layer() {
        return LAYER;
    }

    @Override
    public String watching() {
        return "jdk sockets (Socket streams, SocketChannel; jdk 17 and 25)";
    }

    @Override
    public Map<String, String> settings() {
        return Collections.singletonMap("highwater.socket.sample", "10ms");
    }

    @Override
    public List<String> bootstrapClasses() {
        // names, not class literals: this class is loaded before the bootstrap classes are defined
        return Arrays.asList(BOOTSTRAP + "SocketWrites$Slot", BOOTSTRAP + "SocketWrites", BOOTSTRAP + "SocketHooks",
                BOOTSTRAP + "SocketHooks$1");
    }

    @Override
    public Installed install(Context context) throws Unavailable {
        return SocketInstall.install(context);
    }
}
