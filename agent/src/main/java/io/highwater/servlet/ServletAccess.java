package io.highwater.servlet;

import io.highwater.base.Reflect;
import io.highwater.core.TransportProbe;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reads what the containers expose about a tracked transport, from the agent's class loader, which cannot link
 * against them: method handles resolved once per class, each optional. Used at collection time and on slow paths.
 *
 * <ul>
 *   <li>Tomcat's {@code NioSocketWrapper}: peer and local address ({@code getRemoteAddr()}, {@code getRemotePort()},
 *       {@code getLocalAddr()}, {@code getLocalPort()}), open until {@code isClosed()}; pending bytes: its write
 *       buffers and the response buffer of the request it runs ({@link TomcatAccess}).</li>
 *   <li>Jetty 12's {@code HttpOutput}: peer and local address from its servlet channel's connection metadata,
 *       open until {@code isClosed()}; pending bytes: its aggregate buffer plus the bytes of a blocking channel write
 *       in progress; while an async write is in progress ({@code _apiState} {@code PENDING} or {@code UNREADY}),
 *       what the HTTP/1 connection's {@code WriteFlusher} holds (the buffers the socket has not taken) plus, for
 *       content handed over in slices, what the async write has not sliced off yet.</li>
 *   <li>Undertow's {@code ServletOutputStreamImpl}: peer and local address of its exchange, open until
 *       {@code isClosed()}; pending bytes: its buffer, what an async write left for later, the bytes of a blocking
 *       hand-over in progress.</li>
 *   <li>Tomcat's {@code CoyoteOutputStream}: open while its output buffer is; address and pending bytes those of its
 *       response buffer and the socket its processor writes to ({@link TomcatAccess}).</li>
 * </ul>
 */
final class ServletAccess implements TransportProbe {

    private static final class Handles {
        MethodHandle isClosed;
        MethodHandle streamBuffer;
        MethodHandle streamBufferClosed;
        MethodHandle remoteAddr;
        MethodHandle remotePort;
        MethodHandle localAddr;
        MethodHandle localPort;
        MethodHandle channel;
        MethodHandle metadata;
        MethodHandle remoteSocket;
        MethodHandle localSocket;
        MethodHandle aggregate;
        MethodHandle remaining;
        MethodHandle requestContext;
        MethodHandle exchange;
        MethodHandle sourceAddress;
        MethodHandle destinationAddress;
        MethodHandle undertowBuffer;
        MethodHandle undertowBuffersToWrite;
        /** Whether the stream is in async mode: Jetty's and Undertow's write listener field. */
        MethodHandle writeListener;
        /** Tomcat's {@code OutputBuffer.isBlocking()}. */
        MethodHandle obBlocking;
        MethodHandle apiState;
        MethodHandle httpVersion;
        MethodHandle connection;
        MethodHandle endPoint;
        MethodHandle writeFlusher;
        MethodHandle flusherState;
        Class<?> pendingState;
        MethodHandle pendingBuffers;
    }

    private final WritesInProgress writes;
    private final TomcatAccess tomcat;

    /** The not-yet-sliced rest of Jetty's async writes ({@code HttpOutput$AsyncWrite._buffer}), per class. */
    private final ClassValue<MethodHandle> slicedBuffer = new ClassValue<MethodHandle>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            return Reflect.getter(type, "_buffer");
        }
    };

    private final ClassValue<Handles> handles = new ClassValue<Handles>() {
        @Override
        protected Handles computeValue(Class<?> type) {
            Handles h = new Handles();
            MethodHandles.Lookup pub = MethodHandles.publicLookup();
            ClassLoader loader = type.getClassLoader();
            h.isClosed = Reflect.method(pub, type, "isClosed", MethodType.methodType(boolean.class));
            h.remoteAddr = Reflect.method(pub, type, "getRemoteAddr", MethodType.methodType(String.class));
            h.remotePort = Reflect.method(pub, type, "getRemotePort", MethodType.methodType(int.class));
            h.localAddr = Reflect.method(pub, type, "getLocalAddr", MethodType.methodType(String.class));
            h.localPort = Reflect.method(pub, type, "getLocalPort", MethodType.methodType(int.class));
            // Tomcat's stream: its output buffer
            h.streamBuffer = Reflect.getter(type, "ob");
            if (h.streamBuffer != null) {
                Class<?> ob = Reflect.load("org.apache.catalina.connector.OutputBuffer", loader);
                h.streamBufferClosed = ob == null ? null : Reflect.method(pub, ob, "isClosed", MethodType.methodType(boolean.class));
                h.obBlocking = ob == null ? null : Reflect.method(pub, ob, "isBlocking", MethodType.methodType(boolean.class));
            }
            // Jetty's stream, Undertow's stream: set once the application gave it a WriteListener
            h.writeListener = Reflect.getter(type, "_writeListener");
            if (h.writeListener == null) {
                h.writeListener = Reflect.getter(type, "listener");
            }
            // Jetty 12's stream: its servlet channel's connection metadata, its aggregate buffer
            h.channel = Reflect.getter(type, "_servletChannel");
            Class<?> meta = Reflect.load("org.eclipse.jetty.server.ConnectionMetaData", loader);
            if (h.channel != null && meta != null) {
                Class<?> channelType = Reflect.load("org.eclipse.jetty.ee10.servlet.ServletChannel", loader);
                if (channelType != null) {
                    h.metadata = Reflect.method(pub, channelType, "getConnectionMetaData", MethodType.methodType(meta));
                }
                h.remoteSocket = Reflect.method(pub, meta, "getRemoteSocketAddress", MethodType.methodType(SocketAddress.class));
                h.localSocket = Reflect.method(pub, meta, "getLocalSocketAddress", MethodType.methodType(SocketAddress.class));
                resolveJettyFlusher(h, pub, meta, loader);
                h.apiState = Reflect.getter(type, "_apiState");
            }
            h.aggregate = Reflect.getter(type, "_aggregate");
            Class<?> rbb = Reflect.load("org.eclipse.jetty.io.RetainableByteBuffer", loader);
            if (h.aggregate != null && rbb != null) {
                h.remaining = Reflect.method(pub, rbb, "remaining", MethodType.methodType(int.class));
            }
            // Undertow's stream: its exchange's addresses, its buffer and what an async write left for later
            h.requestContext = Reflect.getter(type, "servletRequestContext");
            Class<?> context = Reflect.load("io.undertow.servlet.handlers.ServletRequestContext", loader);
            Class<?> exchange = Reflect.load("io.undertow.server.HttpServerExchange", loader);
            if (h.requestContext != null && context != null && exchange != null) {
                h.exchange = Reflect.method(pub, context, "getExchange", MethodType.methodType(exchange));
                h.sourceAddress = Reflect.method(pub, exchange, "getSourceAddress", MethodType.methodType(InetSocketAddress.class));
                h.destinationAddress = Reflect.method(pub, exchange, "getDestinationAddress",
                        MethodType.methodType(InetSocketAddress.class));
                h.undertowBuffer = Reflect.getter(type, "buffer");
                h.undertowBuffersToWrite = Reflect.getter(type, "buffersToWrite");
            }
            return h;
        }
    };

    ServletAccess(WritesInProgress writes) {
        this.writes = writes;
        this.tomcat = new TomcatAccess(writes);
    }

    /** Jetty 12: the connection's {@code WriteFlusher} and, while it waits for the socket, the buffers it holds. */
    private static void resolveJettyFlusher(Handles h, MethodHandles.Lookup pub, Class<?> meta, ClassLoader loader) {
        Class<?> connection = Reflect.load("org.eclipse.jetty.io.Connection", loader);
        Class<?> endPoint = Reflect.load("org.eclipse.jetty.io.EndPoint", loader);
        Class<?> abstractEndPoint = Reflect.load("org.eclipse.jetty.io.AbstractEndPoint", loader);
        Class<?> flusher = Reflect.load("org.eclipse.jetty.io.WriteFlusher", loader);
        Class<?> version = Reflect.load("org.eclipse.jetty.http.HttpVersion", loader);
        if (connection == null || endPoint == null || abstractEndPoint == null || flusher == null || version == null) {
            return;
        }
        h.httpVersion = Reflect.method(pub, meta, "getHttpVersion", MethodType.methodType(version));
        h.connection = Reflect.method(pub, meta, "getConnection", MethodType.methodType(connection));
        h.endPoint = Reflect.method(pub, connection, "getEndPoint", MethodType.methodType(endPoint));
        h.writeFlusher = Reflect.method(pub, abstractEndPoint, "getWriteFlusher", MethodType.methodType(flusher));
        h.flusherState = Reflect.getter(flusher, "_state");
        h.pendingState = Reflect.load("org.eclipse.jetty.io.WriteFlusher$PendingState", loader);
        h.pendingBuffers = h.pendingState == null ? null : Reflect.getter(h.pendingState, "_buffers");
    }

    @Override
    public long pendingBytes(Object transport) {
        Handles h = handles.get(transport.getClass());
        long pending = writes.blocking(transport);
        if (tomcat.covers(transport)) {
            return pending + tomcat.pendingBytes(transport);
        }
        if (h.undertowBuffersToWrite != null && h.undertowBuffer != null) {
            return pending + undertowPending(h, transport);
        }
        String api = jettyApiState(h, transport);
        if ("PENDING".equals(api) || "UNREADY".equals(api)) {
            // an async write in progress holds the aggregate too, if it had bytes: it is flushed first
            return pending + jettyFlusherBytes(h, transport) + jettySlicedRest(transport);
        }
        if (h.aggregate != null && h.remaining != null && !"BLOCKED".equals(api)) {
            // BLOCKED: a blocking write is in progress, and what the aggregate holds is the write's own content
            try {
                Object buffer = h.aggregate.invoke(transport);
                if (buffer != null) {
                    pending += (int) h.remaining.invoke(buffer);
                }
            } catch (Throwable t) {
                // a buffer released under our feet: count what is known
            }
        }
        return pending;
    }

    /**
     * True when {@code stream} is known to be in blocking mode (no write listener), where a refused write cannot be a
     * write while not ready; false when it is async or unknown.
     */
    boolean isBlocking(Object stream) {
        Handles h = handles.get(stream.getClass());
        try {
            if (h.obBlocking != null) {
                Object ob = h.streamBuffer.invoke(stream);
                return ob != null && (boolean) h.obBlocking.invoke(ob);
            }
            if (h.writeListener != null) {
                return h.writeListener.invoke(stream) == null;
            }
        } catch (Throwable t) {
            // unknown
        }
        return false;
    }

    /** The name of Jetty's {@code HttpOutput._apiState}, read without its lock (a stale value is a moment old), or null. */
    private static String jettyApiState(Handles h, Object stream) {
        if (h.apiState == null) {
            return null;
        }
        try {
            Object state = h.apiState.invoke(stream);
            return state instanceof Enum ? ((Enum<?>) state).name() : null;
        } catch (Throwable t) {
            return null;
        }
    }

    /**
     * What the HTTP/1 connection of Jetty's {@code stream} holds in its {@code WriteFlusher} while it waits for the
     * socket: the remaining bytes of the very buffers the write handed over. HTTP/2 connections are left out: their
     * flusher holds frames of every stream of the connection.
     */
    private static long jettyFlusherBytes(Handles h, Object stream) {
        if (h.channel == null || h.metadata == null || h.httpVersion == null || h.connection == null
                || h.endPoint == null || h.writeFlusher == null || h.flusherState == null || h.pendingBuffers == null) {
            return 0;
        }
        try {
            Object channel = h.channel.invoke(stream);
            Object meta = channel == null ? null : h.metadata.invoke(channel);
            Object version = meta == null ? null : h.httpVersion.invoke(meta);
            if (version == null || !version.toString().startsWith("HTTP/1")) {
                return 0;
            }
            Object connection = h.connection.invoke(meta);
            Object endPoint = connection == null ? null : h.endPoint.invoke(connection);
            if (endPoint == null || !h.writeFlusher.type().parameterType(0).isInstance(endPoint)) {
                return 0;
            }
            Object flusher = h.writeFlusher.invoke(endPoint);
            Object state = flusher == null ? null : ((AtomicReference<?>) h.flusherState.invoke(flusher)).get();
            if (!h.pendingState.isInstance(state)) {
                return 0;
            }
            long n = 0;
            for (ByteBuffer b : (ByteBuffer[]) h.pendingBuffers.invoke(state)) {
                // the selector thread writes from these buffers meanwhile: a torn read is clamped
                n += b == null ? 0 : Math.max(0, b.remaining());
            }
            return n;
        } catch (Throwable t) {
            return 0;
        }
    }

    /**
     * The part of a Jetty async write that is handed over in slices and not sliced off yet: still in the
     * application's array (the current slice sits in the flusher).
     */
    private long jettySlicedRest(Object stream) {
        Object write = writes.slicedWriteOf(stream);
        if (write == null) {
            return 0;
        }
        try {
            MethodHandle buffer = slicedBuffer.get(write.getClass());
            ByteBuffer b = buffer == null ? null : (ByteBuffer) buffer.invoke(write);
            return b == null ? 0 : Math.max(0, b.remaining());
        } catch (Throwable t) {
            return 0;
        }
    }

    /**
     * Undertow: an async write the channel did not take leaves {@code buffersToWrite} (the stream's buffer, flipped,
     * and a copy of the rest) until the channel is writable again; otherwise the stream's buffer is in write mode.
     * During a blocking hand-over the buffer is flipped and its bytes are the write in progress, counted already.
     */
    private long undertowPending(Handles h, Object stream) {
        try {
            ByteBuffer[] later = (ByteBuffer[]) h.undertowBuffersToWrite.invoke(stream);
            if (later != null) {
                long n = 0;
                for (ByteBuffer b : later) {
                    n += b == null ? 0 : Math.max(0, b.remaining());
                }
                return n;
            }
            if (writes.blocking(stream) != 0) {
                return 0;
            }
            ByteBuffer buffer = (ByteBuffer) h.undertowBuffer.invoke(stream);
            return buffer == null ? 0 : Math.max(0, buffer.position());
        } catch (Throwable t) {
            return 0;
        }
    }

    @Override
    public boolean isOpen(Object transport) {
        Handles h = handles.get(transport.getClass());
        try {
            if (h.streamBuffer != null) {
                Object ob = h.streamBuffer.invoke(transport);
                return ob != null && (h.streamBufferClosed == null || !(boolean) h.streamBufferClosed.invoke(ob));
            }
            if (h.isClosed != null) {
                return !(boolean) h.isClosed.invoke(transport);
            }
            return true;
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public SocketAddress peer(Object transport) {
        return address(transport, true);
    }

    @Override
    public SocketAddress local(Object transport) {
        return address(transport, false);
    }

    private SocketAddress address(Object transport, boolean remote) {
        if (tomcat.covers(transport)) {
            // an async stream has no address of its own: its socket has
            Object socket = tomcat.socketOf(transport);
            if (socket == null) {
                return null;
            }
            transport = socket;
        }
        Handles h = handles.get(transport.getClass());
        try {
            if (h.exchange != null) {
                Object context = h.requestContext.invoke(transport);
                Object exchange = context == null ? null : h.exchange.invoke(context);
                MethodHandle m = remote ? h.sourceAddress : h.destinationAddress;
                return exchange == null || m == null ? null : (SocketAddress) m.invoke(exchange);
            }
            if (h.metadata != null && h.channel != null) {
                Object channel = h.channel.invoke(transport);
                Object meta = channel == null ? null : h.metadata.invoke(channel);
                MethodHandle m = remote ? h.remoteSocket : h.localSocket;
                return meta == null || m == null ? null : (SocketAddress) m.invoke(meta);
            }
            MethodHandle addr = remote ? h.remoteAddr : h.localAddr;
            MethodHandle port = remote ? h.remotePort : h.localPort;
            if (addr != null && port != null) {
                String a = (String) addr.invoke(transport);
                int p = (int) port.invoke(transport);
                if (a != null && p >= 0 && isIpLiteral(a)) {
                    // an IP literal: no name look-up
                    return new InetSocketAddress(InetAddress.getByName(a), p);
                }
            }
        } catch (Throwable t) {
            // no address
        }
        return null;
    }

    private static boolean isIpLiteral(String a) {
        return a.indexOf(':') >= 0 || (!a.isEmpty() && a.chars().allMatch(ch -> ch == '.' || (ch >= '0' && ch <= '9')));
    }
}
