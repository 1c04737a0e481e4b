package io.highwater.servlet.jetty;

import io.highwater.instrument.Reference;
import io.highwater.servlet.ContainerAccess;
import io.highwater.servlet.WritesInProgress;

import java.lang.invoke.MethodHandle;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reads Jetty's stream, {@code HttpOutput}, in its two shapes: Jetty 12 ee10 ({@code org.eclipse.jetty.ee10.servlet},
 * {@code jakarta}) and Jetty 9.4, 10 ({@code javax}) and 11 ({@code jakarta}) ({@code org.eclipse.jetty.server}).
 * Peer and local address from its channel (12: its servlet channel's connection metadata); open until
 * {@code isClosed()}; pending bytes: its aggregate buffer plus the bytes of a blocking channel write in progress;
 * while an async write is in progress ({@code _apiState} {@code PENDING} or {@code UNREADY}), what the HTTP/1
 * connection's {@code WriteFlusher} holds (the buffers the socket has not taken) plus, for content handed over in
 * slices, what the async write has not sliced off yet. Every link is a {@link Reference} that {@link JettyPart} checks
 * when the stream's class loads.
 */
final class JettyAccess implements ContainerAccess {

    static final String EE10 = "org.eclipse.jetty.ee10.servlet.HttpOutput";
    static final String LEGACY = "org.eclipse.jetty.server.HttpOutput";
    private static final String META = "org.eclipse.jetty.server.ConnectionMetaData";
    private static final String SERVLET_CHANNEL = "org.eclipse.jetty.ee10.servlet.ServletChannel";
    private static final String HTTP_CHANNEL = "org.eclipse.jetty.server.HttpChannel";
    private static final String CONNECTION = "org.eclipse.jetty.io.Connection";
    private static final String END_POINT = "org.eclipse.jetty.io.EndPoint";
    private static final String ABSTRACT_END_POINT = "org.eclipse.jetty.io.AbstractEndPoint";
    private static final String FLUSHER = "org.eclipse.jetty.io.WriteFlusher";
    private static final String PENDING_STATE = "org.eclipse.jetty.io.WriteFlusher$PendingState";
    private static final String RETAINABLE = "org.eclipse.jetty.io.RetainableByteBuffer";
    private static final String SOCKET_ADDRESS = "java.net.SocketAddress";
    private static final String INET_SOCKET_ADDRESS = "java.net.InetSocketAddress";

    /** What both shapes share: the connection's write flusher, and the stream's state. */
    private static final Reference END_POINT_FLUSHER = Reference.method(ABSTRACT_END_POINT, FLUSHER, "getWriteFlusher");
    private static final Reference FLUSHER_STATE = Reference.field(FLUSHER, "_state", AtomicReference.class.getName());
    private static final Reference PENDING_BUFFERS = Reference.field(PENDING_STATE, "_buffers", null);
    /**
     * What the guard's {@code close} calls: the HTTP/1 connection's {@code EndPoint.close()}. Not needed to watch: a
     * Jetty without it is watched, and the guard says once that it cannot close there.
     */
    static final Reference END_POINT_CLOSE = Reference.method(END_POINT, "void", "close");

    static final class Shape {
        final String stream;
        final Reference isClosed;
        final Reference writeListener;
        final Reference apiState;
        final Reference aggregate;
        final Reference channel;
        final Reference slicedBuffer;
        final List<Reference> all;

        Shape(String stream, Reference aggregate, Reference channel, List<Reference> more) {
            this.stream = stream;
            this.isClosed = Reference.method(stream, "boolean", "isClosed");
            this.writeListener = Reference.field(stream, "_writeListener", null);
            this.apiState = Reference.field(stream, "_apiState", null);
            this.aggregate = aggregate;
            this.channel = channel;
            this.slicedBuffer = Reference.field(stream + "$AsyncWrite", "_buffer", "java.nio.ByteBuffer");
            this.all = new java.util.ArrayList<>(List.of(isClosed, writeListener, apiState, aggregate, channel,
                    END_POINT_FLUSHER, FLUSHER_STATE, PENDING_BUFFERS));
            this.all.addAll(more);
        }
    }

    // Jetty 12 ee10: _aggregate is a RetainableByteBuffer; addresses and connection from the connection metadata
    static final Reference META_OF_CHANNEL = Reference.method(SERVLET_CHANNEL, META, "getConnectionMetaData");
    static final Reference META_REMOTE = Reference.method(META, SOCKET_ADDRESS, "getRemoteSocketAddress");
    static final Reference META_LOCAL = Reference.method(META, SOCKET_ADDRESS, "getLocalSocketAddress");
    static final Reference META_VERSION = Reference.method(META, "org.eclipse.jetty.http.HttpVersion",
            "getHttpVersion");
    static final Reference META_CONNECTION = Reference.method(META, CONNECTION, "getConnection");
    static final Reference CONNECTION_END_POINT = Reference.method(CONNECTION, END_POINT, "getEndPoint");
    static final Reference RETAINABLE_REMAINING = Reference.method(RETAINABLE, "int", "remaining");
    static final Shape EE10_SHAPE = new Shape(EE10, Reference.field(EE10, "_aggregate", RETAINABLE),
            Reference.field(EE10, "_servletChannel", SERVLET_CHANNEL), List.of(META_OF_CHANNEL, META_REMOTE,
            META_LOCAL, META_VERSION, META_CONNECTION, CONNECTION_END_POINT, RETAINABLE_REMAINING));

    // Jetty 9.4, 10, 11: _aggregate is a ByteBuffer in flush mode; addresses and end point from the HttpChannel
    static final Reference CHANNEL_REMOTE = Reference.method(HTTP_CHANNEL, INET_SOCKET_ADDRESS, "getRemoteAddress");
    static final Reference CHANNEL_LOCAL = Reference.method(HTTP_CHANNEL, INET_SOCKET_ADDRESS, "getLocalAddress");
    static final Reference CHANNEL_END_POINT = Reference.method(HTTP_CHANNEL, END_POINT, "getEndPoint");
    static final Shape LEGACY_SHAPE = new Shape(LEGACY, Reference.field(LEGACY, "_aggregate", "java.nio.ByteBuffer"),
            Reference.field(LEGACY, "_channel", HTTP_CHANNEL), List.of(CHANNEL_REMOTE, CHANNEL_LOCAL,
            CHANNEL_END_POINT));

    /** The handles of one stream class; which shape it is decides which are set. */
    private static final class Handles {
        boolean ee10;
        MethodHandle isClosed;
        MethodHandle writeListener;
        MethodHandle apiState;
        MethodHandle aggregate;
        MethodHandle channel;
        MethodHandle remaining;
        MethodHandle metadata;
        MethodHandle remote;
        MethodHandle local;
        MethodHandle httpVersion;
        MethodHandle connection;
        MethodHandle connectionEndPoint;
        MethodHandle channelEndPoint;
        MethodHandle writeFlusher;
        MethodHandle flusherState;
        MethodHandle pendingBuffers;
        Class<?> pendingState;
        MethodHandle slicedBuffer;
        MethodHandle endPointClose;
    }

    private final WritesInProgress writes;

    private final ClassValue<Handles> handles = new ClassValue<Handles>() {
        @Override
        protected Handles computeValue(Class<?> type) {
            Handles h = new Handles();
            ClassLoader loader = type.getClassLoader();
            h.ee10 = type.getName().equals(EE10);
            Shape s = h.ee10 ? EE10_SHAPE : LEGACY_SHAPE;
            h.isClosed = s.isClosed.resolve(loader);
            h.writeListener = s.writeListener.resolve(loader);
            h.apiState = s.apiState.resolve(loader);
            h.aggregate = s.aggregate.resolve(loader);
            h.channel = s.channel.resolve(loader);
            h.writeFlusher = END_POINT_FLUSHER.resolve(loader);
            h.flusherState = FLUSHER_STATE.resolve(loader);
            h.pendingBuffers = PENDING_BUFFERS.resolve(loader);
            h.pendingState = Reference.type(PENDING_STATE).load(loader);
            h.slicedBuffer = s.slicedBuffer.resolve(loader);
            h.endPointClose = END_POINT_CLOSE.resolve(loader);
            if (h.ee10) {
                h.remaining = RETAINABLE_REMAINING.resolve(loader);
                h.metadata = META_OF_CHANNEL.resolve(loader);
                h.remote = META_REMOTE.resolve(loader);
                h.local = META_LOCAL.resolve(loader);
                h.httpVersion = META_VERSION.resolve(loader);
                h.connection = META_CONNECTION.resolve(loader);
                h.connectionEndPoint = CONNECTION_END_POINT.resolve(loader);
            } else {
                h.remote = CHANNEL_REMOTE.resolve(loader);
                h.local = CHANNEL_LOCAL.resolve(loader);
                h.channelEndPoint = CHANNEL_END_POINT.resolve(loader);
            }
            return h;
        }
    };

    JettyAccess(WritesInProgress writes) {
        this.writes = writes;
    }

    @Override
    public boolean covers(Object transport) {
        String n = transport.getClass().getName();
        return n.equals(EE10) || n.equals(LEGACY);
    }

    @Override
    public long pendingBytes(Object stream) {
        Handles h = handles.get(stream.getClass());
        long pending = writes.blocking(stream);
        String api = apiState(h, stream);
        if ("PENDING".equals(api) || "UNREADY".equals(api)) {
            // an async write in progress holds the aggregate too, if it had bytes: it is flushed first
            return pending + flusherBytes(h, stream) + slicedRest(h, stream);
        }
        if (h.aggregate != null && !"BLOCKED".equals(api)) {
            // BLOCKED: a blocking write is in progress, and what the aggregate holds is the write's own content
            try {
                Object buffer = h.aggregate.invoke(stream);
                if (buffer instanceof ByteBuffer) {
                    pending += Math.max(0, ((ByteBuffer) buffer).remaining());
                } else if (buffer != null && h.remaining != null) {
                    pending += (int) h.remaining.invoke(buffer);
                }
            } catch (Throwable t) {
                // a buffer released under our feet: count what is known
            }
        }
        return pending;
    }

    @Override
    public boolean isOpen(Object stream) {
        Handles h = handles.get(stream.getClass());
        try {
            return h.isClosed == null || !(boolean) h.isClosed.invoke(stream);
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public boolean isBlocking(Object stream) {
        Handles h = handles.get(stream.getClass());
        try {
            return h.writeListener != null && h.writeListener.invoke(stream) == null;
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public SocketAddress address(Object stream, boolean remote) {
        Handles h = handles.get(stream.getClass());
        MethodHandle m = remote ? h.remote : h.local;
        if (h.channel == null || m == null) {
            return null;
        }
        try {
            Object channel = h.channel.invoke(stream);
            if (channel == null) {
                return null;
            }
            if (h.ee10) {
                Object meta = h.metadata == null ? null : h.metadata.invoke(channel);
                return meta == null ? null : (SocketAddress) m.invoke(meta);
            }
            return (SocketAddress) m.invoke(channel);
        } catch (Throwable t) {
            return null;
        }
    }

    /** The name of {@code HttpOutput._apiState}, read without its lock (a stale value is a moment old), or null. */
    private static String apiState(Handles h, Object stream) {
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
     * What the HTTP/1 connection of {@code stream} holds in its {@code WriteFlusher} while it waits for the socket:
     * the remaining bytes of the very buffers the write handed over. HTTP/2 connections are left out: their flusher
     * holds frames of every stream of the connection.
     */
    private static long flusherBytes(Handles h, Object stream) {
        if (h.channel == null || h.writeFlusher == null || h.flusherState == null || h.pendingBuffers == null
                || h.pendingState == null) {
            return 0;
        }
        try {
            Object endPoint = endPointOf(h, stream);
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
     * The end point of {@code stream}'s HTTP/1 connection, or null (HTTP/2, whose end point is the whole connection
     * of many streams; a recycled stream; another version).
     */
    private static Object endPointOf(Handles h, Object stream) throws Throwable {
        Object channel = h.channel == null ? null : h.channel.invoke(stream);
        if (channel == null) {
            return null;
        }
        if (h.ee10) {
            Object meta = h.metadata == null ? null : h.metadata.invoke(channel);
            Object version = meta == null || h.httpVersion == null ? null : h.httpVersion.invoke(meta);
            if (version == null || !version.toString().startsWith("HTTP/1")) {
                return null;
            }
            Object connection = h.connection == null ? null : h.connection.invoke(meta);
            return connection == null || h.connectionEndPoint == null ? null : h.connectionEndPoint.invoke(connection);
        }
        // HttpChannelOverHttp is HTTP/1's channel; HTTP/2's has a stream end point of its own
        if (!channel.getClass().getName().endsWith(".HttpChannelOverHttp") || h.channelEndPoint == null) {
            return null;
        }
        return h.channelEndPoint.invoke(channel);
    }

    /**
     * The guard's {@code close}: the HTTP/1 connection's {@code EndPoint.close()}, as Jetty's own idle timeout closes
     * a connection from another thread: the write flusher fails what it holds (the application's pending async write
     * fails, its listener's {@code onError} runs; a blocked write throws), the buffers go back to Jetty's pool, the
     * client reads an end of stream. HTTP/2 is left alone (its end point is every stream's connection).
     */
    @Override
    public boolean close(Object stream) {
        Handles h = handles.get(stream.getClass());
        if (h.endPointClose == null) {
            return false;
        }
        try {
            Object endPoint = endPointOf(h, stream);
            if (endPoint == null) {
                return false;
            }
            h.endPointClose.invoke(endPoint);
            return true;
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * The part of an async write that is handed over in slices and not sliced off yet: still in the application's
     * array (the current slice sits in the flusher).
     */
    private long slicedRest(Handles h, Object stream) {
        Object write = writes.slicedWriteOf(stream);
        if (write == null || h.slicedBuffer == null) {
            return 0;
        }
        try {
            ByteBuffer b = (ByteBuffer) h.slicedBuffer.invoke(write);
            return b == null ? 0 : Math.max(0, b.remaining());
        } catch (Throwable t) {
            return 0;
        }
    }
}
