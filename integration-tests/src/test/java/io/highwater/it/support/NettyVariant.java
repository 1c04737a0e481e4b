package io.highwater.it.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A Netty version and transport the server apps run on in the child JVM. */
public enum NettyVariant {
    NETTY_41_NIO("4.1", "nio"),
    NETTY_41_EPOLL("4.1", "epoll"),
    NETTY_42_NIO("4.2", "nio"),
    NETTY_42_EPOLL("4.2", "epoll"),
    /** The copy of Netty that grpc-netty-shaded relocated under {@code io.grpc.netty.shaded}. */
    GRPC_SHADED_NIO("grpc-shaded", "nio"),
    GRPC_SHADED_EPOLL("grpc-shaded", "epoll");

    /** The package prefix of the relocated copy. */
    public static final String SHADED_PREFIX = "io.grpc.netty.shaded.";

    private final String line;
    private final String transport;

    NettyVariant(String line, String transport) {
        this.line = line;
        this.transport = transport;
    }

    /** {@code nio} or {@code epoll}: the server app's {@code --transport}. */
    public String transport() {
        return transport;
    }

    /** The exact Netty version, e.g. 4.1.137.Final, from the build. */
    public String version() {
        switch (line) {
            case "4.1":
                return ItEnv.property("highwater.it.netty41.version");
            case "4.2":
                return ItEnv.property("highwater.it.netty42.version");
            default:
                return ItEnv.property("highwater.it.grpcshaded.netty.version");
        }
    }

    public boolean relocated() {
        return line.equals("grpc-shaded");
    }

    public Path jarDir() {
        switch (line) {
            case "4.1":
                return ItEnv.netty41Dir();
            case "4.2":
                return ItEnv.netty42Dir();
            default:
                return Path.of(ItEnv.property("highwater.it.grpcshaded"));
        }
    }

    /** The server channel class the app must report on stdout ({@code CHANNEL ...}). */
    public String serverChannelClass() {
        return (relocated() ? SHADED_PREFIX : "") + (transport.equals("epoll")
                ? "io.netty.channel.epoll.EpollServerSocketChannel" : "io.netty.channel.socket.nio.NioServerSocketChannel");
    }

    /** The export server built on this variant's Netty: the relocated copy has its own, generated from the other. */
    public String exportServerClass() {
        return relocated() ? "io.highwater.it.apps.relocated.NettyExportServer" : "io.highwater.it.apps.NettyExportServer";
    }

    /** {@code target/test-classes} + this Netty version's jars; nothing else. */
    public List<Path> classPath() {
        List<Path> cp = new ArrayList<>();
        cp.add(ItEnv.testClasses());
        cp.addAll(ChildJvm.jars(jarDir()));
        return cp;
    }

    @Override
    public String toString() {
        return "Netty " + line + " " + transport;
    }
}
