package io.highwater.servlet.undertow;

import io.highwater.instrument.Reference;
import io.highwater.servlet.ContainerAccess;
import io.highwater.servlet.WritesInProgress;

import java.lang.invoke.MethodHandle;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Reads Undertow's stream, {@code ServletOutputStreamImpl} (2.2 {@code javax}, 2.3 {@code jakarta}): peer and local
 * address of its exchange, open until {@code isClosed()}; pending bytes: its buffer, what an async write left for
 * later, the bytes of a blocking hand-over in progress. Every link is a {@link Reference} that {@link UndertowPart}
 * checks when the stream's class loads.
 */
final class UndertowAccess implements ContainerAccess {

    static final String STREAM = "io.undertow.servlet.spec.ServletOutputStreamImpl";
    private static final String CONTEXT = "io.undertow.servlet.handlers.ServletRequestContext";
    private static final String EXCHANGE = "io.undertow.server.HttpServerExchange";
    private static final String INET_SOCKET_ADDRESS = "java.net.InetSocketAddress";

    static final Reference IS_CLOSED = Reference.method(STREAM, "boolean", "isClosed");
    static final Reference LISTENER = Reference.field(STREAM, "listener", null);
    static final Reference CONTEXT_OF_STREAM = Reference.field(STREAM, "servletRequestContext", CONTEXT);
    static final Reference BUFFER = Reference.field(STREAM, "buffer", "java.nio.ByteBuffer");
    static final Reference BUFFERS_TO_WRITE = Reference.field(STREAM, "buffersToWrite", null);
    static final Reference EXCHANGE_OF_CONTEXT = Reference.method(CONTEXT, EXCHANGE, "getExchange");
    static final Reference SOURCE = Reference.method(EXCHANGE, INET_SOCKET_ADDRESS, "getSourceAddress");
    static final Reference DESTINATION = Reference.method(EXCHANGE, INET_SOCKET_ADDRESS, "getDestinationAddress");
    static final List<Reference> ALL = List.of(IS_CLOSED, LISTENER, CONTEXT_OF_STREAM, BUFFER, BUFFERS_TO_WRITE,
            EXCHANGE_OF_CONTEXT, SOURCE, DESTINATION);

    private static final class Handles {
        MethodHandle isClosed;
        MethodHandle listener;
        MethodHandle context;
        MethodHandle buffer;
        MethodHandle buffersToWrite;
        MethodHandle exchange;
        MethodHandle source;
        MethodHandle destination;
    }

    private final WritesInProgress writes;

    private final ClassValue<Handles> handles = new ClassValue<Handles>() {
        @Override
        protected Handles computeValue(Class<?> type) {
            ClassLoader loader = type.getClassLoader();
            Handles h = new Handles();
            h.isClosed = IS_CLOSED.resolve(loader);
            h.listener = LISTENER.resolve(loader);
            h.context = CONTEXT_OF_STREAM.resolve(loader);
            h.buffer = BUFFER.resolve(loader);
            h.buffersToWrite = BUFFERS_TO_WRITE.resolve(loader);
            h.exchange = EXCHANGE_OF_CONTEXT.resolve(loader);
            h.source = SOURCE.resolve(loader);
            h.destination = DESTINATION.resolve(loader);
            return h;
        }
    };

    UndertowAccess(WritesInProgress writes) {
        this.writes = writes;
    }

    @Override
    public boolean covers(Object transport) {
        return transport.getClass().getName().equals(STREAM);
    }

    /**
     * An async write the channel did not take leaves {@code buffersToWrite} (the stream's buffer, flipped, and a copy
     * of the rest) until the channel is writable again; otherwise the stream's buffer is in write mode. During a
     * blocking hand-over the buffer is flipped and its bytes are the write in progress, counted already.
     */
    @Override
    public long pendingBytes(Object stream) {
        Handles h = handles.get(stream.getClass());
        long pending = writes.blocking(stream);
        if (h.buffersToWrite == null || h.buffer == null) {
            return pending;
        }
        try {
            ByteBuffer[] later = (ByteBuffer[]) h.buffersToWrite.invoke(stream);
            if (later != null) {
                long n = 0;
                for (ByteBuffer b : later) {
                    n += b == null ? 0 : Math.max(0, b.remaining());
                }
                return pending + n;
            }
            if (pending != 0) {
                return pending;
            }
            ByteBuffer buffer = (ByteBuffer) h.buffer.invoke(stream);
            return buffer == null ? 0 : Math.max(0, buffer.position());
        } catch (Throwable t) {
            return pending;
        }
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
            return h.listener != null && h.listener.invoke(stream) == null;
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public SocketAddress address(Object stream, boolean remote) {
        Handles h = handles.get(stream.getClass());
        MethodHandle m = remote ? h.source : h.destination;
        if (h.context == null || h.exchange == null || m == null) {
            return null;
        }
        try {
            Object context = h.context.invoke(stream);
            Object exchange = context == null ? null : h.exchange.invoke(context);
            return exchange == null ? null : (SocketAddress) m.invoke(exchange);
        } catch (Throwable t) {
            return null;
        }
    }
}
