package io.highwater.servlet;

import io.highwater.base.Reflect;
import io.highwater.core.TransportProbe;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiPredicate;

/**
 * The servlet layer's probe: hands each tracked transport to the {@link ContainerAccess} of the container part that
 * covers it (Tomcat's stream and sockets, Jetty's and Undertow's streams). A stream no part covers (a container the
 * agent does not know, a test's) is read the container-neutral way: open until a public {@code isClosed()} says
 * otherwise, blocking while its {@code _writeListener} or {@code listener} field is null, nothing pending.
 */
final class ServletAccess implements TransportProbe {

    private final List<ContainerAccess> containers = new ArrayList<>();
    private final WritesInProgress writes;
    private final BiPredicate<Object, String> refuser;

    private static final class Neutral {
        MethodHandle isClosed;
        MethodHandle writeListener;
    }

    private final ClassValue<Neutral> neutral = new ClassValue<Neutral>() {
        @Override
        protected Neutral computeValue(Class<?> type) {
            Neutral n = new Neutral();
            n.isClosed = Reflect.method(MethodHandles.publicLookup(), type, "isClosed",
                    MethodType.methodType(boolean.class));
            n.writeListener = Reflect.getter(type, "_writeListener");
            if (n.writeListener == null) {
                n.writeListener = Reflect.getter(type, "listener");
            }
            return n;
        }
    };

    ServletAccess(WritesInProgress writes, List<ContainerPart> parts, BiPredicate<Object, String> refuser) {
        this.writes = writes;
        this.refuser = refuser;
        for (ContainerPart p : parts) {
            containers.add(p.access(writes));
        }
    }

    private ContainerAccess of(Object transport) {
        for (ContainerAccess c : containers) {
            if (c.covers(transport)) {
                return c;
            }
        }
        return null;
    }

    @Override
    public long pendingBytes(Object transport) {
        ContainerAccess c = of(transport);
        return c != null ? c.pendingBytes(transport) : writes.blocking(transport);
    }

    /**
     * True when {@code stream} is known to be in blocking mode (no write listener), where a refused write cannot be a
     * write while not ready; false when it is async or unknown.
     */
    boolean isBlocking(Object stream) {
        ContainerAccess c = of(stream);
        if (c != null) {
            return c.isBlocking(stream);
        }
        Neutral n = neutral.get(stream.getClass());
        try {
            return n.writeListener != null && n.writeListener.invoke(stream) == null;
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public boolean isOpen(Object transport) {
        ContainerAccess c = of(transport);
        if (c != null) {
            return c.isOpen(transport);
        }
        Neutral n = neutral.get(transport.getClass());
        try {
            return n.isClosed == null || !(boolean) n.isClosed.invoke(transport);
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public SocketAddress peer(Object transport) {
        ContainerAccess c = of(transport);
        return c == null ? null : c.address(transport, true);
    }

    @Override
    public SocketAddress local(Object transport) {
        ContainerAccess c = of(transport);
        return c == null ? null : c.address(transport, false);
    }

    /**
     * The object that stands for {@code stream}'s connection where the container has one besides the stream (Tomcat:
     * its socket wrapper, which a blocking write's connection is tracked by), or null.
     */
    Object connectionOf(Object stream) {
        ContainerAccess c = of(stream);
        return c == null ? null : c.connectionOf(stream);
    }

    /** The guard's {@code close}: through the container's own abort (see {@link ContainerAccess#close}). */
    @Override
    public boolean close(Object transport) {
        ContainerAccess c = of(transport);
        return c != null && c.close(transport);
    }

    /**
     * The guard's {@code fail}: the connection's next writes are emptied and fail with the guard's {@code
     * IOException} in the write advice (container-neutral, so on every container the stream advice covers).
     */
    @Override
    public boolean refuse(Object transport, String message) {
        return refuser.test(transport, message);
    }
}
