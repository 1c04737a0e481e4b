package io.highwater.socket;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketImpl;
import java.net.SocketOptions;
import java.nio.channels.SocketChannel;

/**
 * Reads addresses and state of the JDK's sockets, off the write path: a {@code SocketChannel} through its public
 * API, a {@code NioSocketImpl} through {@code SocketImpl}'s protected accessors and its own {@code isOpen()}, which
 * the agent may call once java.base opened those packages to it ({@link SocketInstrumentation#prepareModules}).
 */
final class SocketAccess {

    /** Resolved on first use, after java.base opened its packages to the agent. */
    private static final class Handles {
        static final MethodHandle REMOTE_ADDRESS;
        static final MethodHandle REMOTE_PORT;
        static final MethodHandle LOCAL_PORT;
        static final MethodHandle IMPL_IS_OPEN;
        static final MethodHandle IMPL_CLOSE;

        static {
            MethodHandle address = null;
            MethodHandle port = null;
            MethodHandle localPort = null;
            MethodHandle isOpen = null;
            MethodHandle close = null;
            try {
                MethodHandles.Lookup socketImpl = MethodHandles.privateLookupIn(SocketImpl.class, MethodHandles.lookup());
                address = socketImpl.findVirtual(SocketImpl.class, "getInetAddress",
                        MethodType.methodType(InetAddress.class));
                port = socketImpl.findVirtual(SocketImpl.class, "getPort", MethodType.methodType(int.class));
                localPort = socketImpl.findVirtual(SocketImpl.class, "getLocalPort", MethodType.methodType(int.class));
                close = socketImpl.findVirtual(SocketImpl.class, "close", MethodType.methodType(void.class));
                Class<?> nio = Class.forName("sun.nio.ch.NioSocketImpl");
                isOpen = MethodHandles.privateLookupIn(nio, MethodHandles.lookup())
                        .findVirtual(nio, "isOpen", MethodType.methodType(boolean.class))
                        .asType(MethodType.methodType(boolean.class, Object.class));
            } catch (ReflectiveOperationException | RuntimeException e) {
                // not opened to the agent: addresses and liveness of Socket streams stay unknown
            }
            REMOTE_ADDRESS = address;
            REMOTE_PORT = port;
            LOCAL_PORT = localPort;
            IMPL_IS_OPEN = isOpen;
            IMPL_CLOSE = close;
        }
    }

    boolean isOpen(Object transport) {
        if (transport instanceof SocketChannel) {
            return ((SocketChannel) transport).isOpen();
        }
        if (Handles.IMPL_IS_OPEN != null) {
            try {
                return (boolean) Handles.IMPL_IS_OPEN.invokeExact(transport);
            } catch (Throwable t) {
                return false;
            }
        }
        return true;
    }

    /**
     * Closes the socket (the guard's action): a write blocked on it returns with an exception, as when another
     * thread of the application closes it. False when it cannot be closed from here.
     */
    boolean close(Object transport) {
        try {
            if (transport instanceof SocketChannel) {
                ((SocketChannel) transport).close();
                return true;
            }
            if (transport instanceof SocketImpl && Handles.IMPL_CLOSE != null) {
                Handles.IMPL_CLOSE.invoke((SocketImpl) transport);
                return true;
            }
        } catch (Throwable t) {
            // closed meanwhile, or refused: nothing done
        }
        return false;
    }

    SocketAddress remoteAddress(Object transport) {
        try {
            if (transport instanceof SocketChannel) {
                return ((SocketChannel) transport).getRemoteAddress();
            }
            if (transport instanceof SocketImpl && Handles.REMOTE_ADDRESS != null) {
                InetAddress a = (InetAddress) Handles.REMOTE_ADDRESS.invoke((SocketImpl) transport);
                return a == null ? null : new InetSocketAddress(a, (int) Handles.REMOTE_PORT.invoke((SocketImpl) transport));
            }
        } catch (Throwable t) {
            // closed meanwhile: no address
        }
        return null;
    }

    SocketAddress localAddress(Object transport) {
        try {
            if (transport instanceof SocketChannel) {
                return ((SocketChannel) transport).getLocalAddress();
            }
            if (transport instanceof SocketImpl && Handles.LOCAL_PORT != null) {
                Object a = ((SocketOptions) transport).getOption(SocketOptions.SO_BINDADDR);
                return a instanceof InetAddress
                        ? new InetSocketAddress((InetAddress) a, (int) Handles.LOCAL_PORT.invoke((SocketImpl) transport)) : null;
            }
        } catch (Throwable t) {
            // closed meanwhile: no address
        }
        return null;
    }
}
