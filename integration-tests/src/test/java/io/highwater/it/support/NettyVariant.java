package io.highwater.it.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A Netty version and transport the server apps run on in the child JVM. */
public enum NettyVariant {
    NETTY_41_NIO("4.1", "nio"),
    NETTY_41_EPOLL("4.1", "epoll"),
    NETTY_42_NIO("4.2", "nio"),
    NETTY_42_EPOLL("4.2", "epoll");

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
        return ItEnv.property(line.equals("4.1") ? "highwater.it.netty41.version" : "highwater.it.netty42.version");
    }

    public Path jarDir() {
        return line.equals("4.1") ? ItEnv.netty41Dir() : ItEnv.netty42Dir();
    }

    /** The server channel class the app must report on stdout ({@code CHANNEL ...}). */
    public String serverChannelClass() {
        return transport.equals("epoll") ? "io.netty.channel.epoll.EpollServerSocketChannel"
                : "io.netty.channel.socket.nio.NioServerSocketChannel";
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
