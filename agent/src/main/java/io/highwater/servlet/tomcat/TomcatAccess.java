package io.highwater.servlet.tomcat;

import io.highwater.instrument.Reference;
import io.highwater.servlet.ContainerAccess;
import io.highwater.servlet.WritesInProgress;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What Tomcat (9, 10, 11; NIO connector) holds for a response and has not handed to the socket yet, and which socket
 * an async stream writes to: read from Tomcat's own objects at collection time, through method handles resolved once
 * per class loader. Each link is optional; a link Tomcat does not have (another version) contributes nothing.
 *
 * <p>The objects, as Tomcat lays them out:
 * <ul>
 *   <li>the stream, {@code CoyoteOutputStream.ob}: the servlet response buffer
 *       ({@code org.apache.catalina.connector.OutputBuffer.bb}, kept in read mode: its remaining bytes are the
 *       buffered ones), whose {@code coyoteResponse.hook} is the connection's processor, whose
 *       {@code AbstractProcessor.socketWrapper} is the socket;</li>
 *   <li>the socket, {@code SocketWrapperBase}: its write buffer ({@code socketBufferHandler.writeBuffer}; the
 *       {@code ByteBuffer} a blocked {@code doWrite(true, ...)} is writing, flipped between write and read mode, as
 *       {@code writeBufferConfiguredForWrite} says) and the buffers of non-blocking writes the socket did not take
 *       ({@code nonBlockingWriteBuffer.buffers}: what an async stream has written while the socket was full); and
 *       the processor it runs right now ({@code currentProcessor}), whose response's adapter note is the servlet
 *       response and so leads back to the response buffer.</li>
 * </ul>
 *
 * <p>An application write larger than the response buffer is passed down in slices of the application's own array,
 * without copying: what the socket's write buffer has not taken of it yet is still in that array, and counted from
 * what the write advice announced ({@link WritesInProgress#arrayRest}).
 *
 * <p>Every link is a {@link Reference} that {@link TomcatPart} checks when Tomcat's classes load: a Tomcat that lacks
 * one is not watched (or that part of it is not), instead of reading nulls here.
 */
final class TomcatAccess implements ContainerAccess {

    static final String STREAM = "org.apache.catalina.connector.CoyoteOutputStream";
    static final String SOCKET_BASE = "org.apache.tomcat.util.net.SocketWrapperBase";
    static final String OUTPUT_BUFFER = "org.apache.catalina.connector.OutputBuffer";
    private static final String COYOTE_RESPONSE = "org.apache.coyote.Response";
    private static final String PROCESSOR = "org.apache.coyote.AbstractProcessor";
    private static final String SERVLET_RESPONSE = "org.apache.catalina.connector.Response";
    private static final String BUFFER_HANDLER = "org.apache.tomcat.util.net.SocketBufferHandler";
    private static final String WRITE_BUFFER = "org.apache.tomcat.util.net.WriteBuffer";
    private static final String HOLDER = "org.apache.tomcat.util.buf.ByteBufferHolder";
    private static final String BYTE_BUFFER = "java.nio.ByteBuffer";

    static final Reference STREAM_OB = Reference.field(STREAM, "ob", OUTPUT_BUFFER);
    static final Reference OB_BB = Reference.field(OUTPUT_BUFFER, "bb", BYTE_BUFFER);
    static final Reference OB_CLOSED = Reference.method(OUTPUT_BUFFER, "boolean", "isClosed");
    static final Reference OB_BLOCKING = Reference.method(OUTPUT_BUFFER, "boolean", "isBlocking");
    static final Reference OB_COYOTE_RESPONSE = Reference.field(OUTPUT_BUFFER, "coyoteResponse", COYOTE_RESPONSE);
    static final Reference RESPONSE_HOOK = Reference.field(COYOTE_RESPONSE, "hook", null);
    static final Reference RESPONSE_NOTE = Reference.method(COYOTE_RESPONSE, "java.lang.Object", "getNote", "int");
    static final Reference PROCESSOR_SOCKET = Reference.field(PROCESSOR, "socketWrapper", SOCKET_BASE);
    static final Reference PROCESSOR_RESPONSE = Reference.field(PROCESSOR, "response", COYOTE_RESPONSE);
    static final Reference SERVLET_RESPONSE_OB = Reference.field(SERVLET_RESPONSE, "outputBuffer", OUTPUT_BUFFER);
    static final Reference SOCKET_BUFFER_HANDLER = Reference.field(SOCKET_BASE, "socketBufferHandler", BUFFER_HANDLER);
    static final Reference HANDLER_WRITE_BUFFER = Reference.field(BUFFER_HANDLER, "writeBuffer", BYTE_BUFFER);
    static final Reference HANDLER_FOR_WRITE = Reference.field(BUFFER_HANDLER, "writeBufferConfiguredForWrite",
            "boolean");
    static final Reference SOCKET_NON_BLOCKING = Reference.field(SOCKET_BASE, "nonBlockingWriteBuffer", WRITE_BUFFER);
    static final Reference NON_BLOCKING_BUFFERS = Reference.field(WRITE_BUFFER, "buffers", null);
    static final Reference HOLDER_BUF = Reference.method(HOLDER, BYTE_BUFFER, "getBuf");
    static final Reference HOLDER_FLIPPED = Reference.method(HOLDER, "boolean", "isFlipped");
    static final Reference SOCKET_PROCESSOR = Reference.field(SOCKET_BASE, "currentProcessor", null);
    static final Reference SOCKET_CLOSED = Reference.method(SOCKET_BASE, "boolean", "isClosed");
    static final Reference SOCKET_REMOTE_ADDR = Reference.method(SOCKET_BASE, "java.lang.String", "getRemoteAddr");
    static final Reference SOCKET_REMOTE_PORT = Reference.method(SOCKET_BASE, "int", "getRemotePort");
    static final Reference SOCKET_LOCAL_ADDR = Reference.method(SOCKET_BASE, "java.lang.String", "getLocalAddr");
    static final Reference SOCKET_LOCAL_PORT = Reference.method(SOCKET_BASE, "int", "getLocalPort");

    static final Reference SOCKET_GET = Reference.method(SOCKET_BASE, "java.lang.Object", "getSocket");
    static final Reference CHANNEL_IO = Reference.method("org.apache.tomcat.util.net.NioChannel",
            "java.nio.channels.SocketChannel", "getIOChannel");
    /**
     * What the guard's {@code close} reads: the socket's channel ({@code NioSocketWrapper.getSocket().getIOChannel()}),
     * whose output it shuts down. Not needed to watch: a Tomcat without them is watched, and the guard says once that
     * it cannot close there.
     */
    static final List<Reference> GUARD = List.of(SOCKET_GET, CHANNEL_IO);

    /** What a tracked socket's bytes, state and addresses are read through. */
    static final List<Reference> SOCKET = List.of(Reference.type(SOCKET_BASE), SOCKET_BUFFER_HANDLER,
            HANDLER_WRITE_BUFFER, HANDLER_FOR_WRITE, SOCKET_NON_BLOCKING, NON_BLOCKING_BUFFERS, HOLDER_BUF,
            HOLDER_FLIPPED, SOCKET_PROCESSOR, PROCESSOR_RESPONSE, RESPONSE_NOTE, SERVLET_RESPONSE_OB, OB_BB,
            SOCKET_CLOSED, SOCKET_REMOTE_ADDR, SOCKET_REMOTE_PORT, SOCKET_LOCAL_ADDR, SOCKET_LOCAL_PORT);
    /** What a tracked stream's bytes, state and socket are read through (the socket's own as above). */
    static final List<Reference> STREAM_REFS = List.of(STREAM_OB, OB_BB, OB_CLOSED, OB_BLOCKING, OB_COYOTE_RESPONSE,
            RESPONSE_HOOK, PROCESSOR_SOCKET);
    /** {@code CoyoteAdapter.ADAPTER_NOTES}: the note under which a coyote response keeps its servlet response. */
    private static final int ADAPTER_NOTES = 1;

    /** The handles of one Tomcat (one class loader); a null handle is a link this version does not have. */
    static final class Handles {
        MethodHandle streamOb;
        MethodHandle obBuffer;
        MethodHandle obCoyoteResponse;
        MethodHandle responseHook;
        MethodHandle responseNote;
        MethodHandle processorSocket;
        MethodHandle processorResponse;
        MethodHandle servletResponseOb;
        MethodHandle socketBufferHandler;
        MethodHandle writeBuffer;
        MethodHandle writeBufferForWrite;
        MethodHandle nonBlockingBuffer;
        MethodHandle nonBlockingBuffers;
        MethodHandle holderBuffer;
        MethodHandle holderFlipped;
        MethodHandle currentProcessor;
        MethodHandle obClosed;
        MethodHandle obBlocking;
        MethodHandle socketClosed;
        MethodHandle remoteAddr;
        MethodHandle remotePort;
        MethodHandle localAddr;
        MethodHandle localPort;
        MethodHandle socketGet;
        MethodHandle channelIo;
        Class<?> socketBase;
    }

    private final WritesInProgress writes;

    TomcatAccess(WritesInProgress writes) {
        this.writes = writes;
    }

    private final ClassValue<Handles> handles = new ClassValue<Handles>() {
        @Override
        protected Handles computeValue(Class<?> type) {
            return resolve(type.getClassLoader());
        }
    };

    /** True for the objects this class reads: Tomcat's stream and its socket wrappers. */
    @Override
    public boolean covers(Object transport) {
        return isStream(transport) || socketBase(transport) != null;
    }

    private static boolean isStream(Object transport) {
        return transport.getClass().getName().equals(STREAM);
    }

    private Class<?> socketBase(Object transport) {
        Class<?> base = handles.get(transport.getClass()).socketBase;
        return base != null && base.isInstance(transport) ? base : null;
    }

    /**
     * The socket wrapper that {@code transport} writes to: itself for a socket wrapper, the processor's socket for a
     * stream; null when it cannot be read (the response is over, another version).
     */
    Object socketOf(Object transport) {
        Handles h = handles.get(transport.getClass());
        if (h.socketBase != null && h.socketBase.isInstance(transport)) {
            return transport;
        }
        if (!isStream(transport) || h.streamOb == null) {
            return null;
        }
        Object ob = invokeOrNull(h.streamOb, transport);
        return ob == null ? null : socketOfOutputBuffer(ob);
    }

    /**
     * The socket wrapper that response buffer {@code ob} writes to, or null: not a processor of the kind known here
     * (HTTP/2's stream processor, say), or a recycled one.
     */
    private Object socketOfOutputBuffer(Object ob) {
        Handles h = handles.get(ob.getClass());
        if (h.obCoyoteResponse == null || h.responseHook == null || h.processorSocket == null) {
            return null;
        }
        try {
            Object coyoteResponse = h.obCoyoteResponse.invoke(ob);
            Object processor = coyoteResponse == null ? null : h.responseHook.invoke(coyoteResponse);
            return processor == null ? null : h.processorSocket.invoke(processor);
        } catch (Throwable t) {
            return null;
        }
    }

    /** Bytes Tomcat holds for the response of {@code transport} and has not handed to the socket yet. */
    @Override
    public long pendingBytes(Object transport) {
        Handles h = handles.get(transport.getClass());
        long pending = writes.blocking(transport);
        if (isStream(transport)) {
            Object ob = invokeOrNull(h.streamOb, transport);
            pending += responseBuffer(h, ob) + (ob == null ? 0 : writes.arrayRest(ob));
            Object socket = socketOf(transport);
            if (socket != null) {
                pending += socketBytes(handles.get(socket.getClass()), socket);
            }
        } else if (socketBase(transport) != null) {
            pending += socketBytes(h, transport);
            pending += responseBuffer(h, runningServletOutput(h, transport));
            // a thread blocked in a write runs its processor, which Tomcat has taken off the socket meanwhile: the
            // large write is found from its own side
            for (Object ob : writes.arrayWriters()) {
                if (socketOfOutputBuffer(ob) == transport) {
                    pending += writes.arrayRest(ob);
                }
            }
        }
        return pending;
    }

    /** The servlet response buffer of the request the socket's processor runs right now (a blocking write's). */
    private static Object runningServletOutput(Handles h, Object socket) {
        if (h.currentProcessor == null || h.processorResponse == null || h.responseNote == null
                || h.servletResponseOb == null) {
            return null;
        }
        try {
            Object ref = h.currentProcessor.invoke(socket);
            Object processor = ref instanceof AtomicReference ? ((AtomicReference<?>) ref).get() : null;
            Object coyoteResponse = processor == null ? null : h.processorResponse.invoke(processor);
            Object servletResponse = coyoteResponse == null ? null : h.responseNote.invoke(coyoteResponse, ADAPTER_NOTES);
            return servletResponse == null ? null : h.servletResponseOb.invoke(servletResponse);
        } catch (Throwable t) {
            return null;
        }
    }

    private static long responseBuffer(Handles h, Object ob) {
        if (ob == null || h.obBuffer == null) {
            return 0;
        }
        try {
            Object bb = h.obBuffer.invoke(ob);
            return bb instanceof ByteBuffer ? ((ByteBuffer) bb).remaining() : 0;
        } catch (Throwable t) {
            return 0;
        }
    }

    private static long socketBytes(Handles h, Object socket) {
        long pending = 0;
        try {
            Object handler = h.socketBufferHandler == null ? null : h.socketBufferHandler.invoke(socket);
            if (handler != null && h.writeBuffer != null && h.writeBufferForWrite != null) {
                Object b = h.writeBuffer.invoke(handler);
                if (b instanceof ByteBuffer) {
                    ByteBuffer buffer = (ByteBuffer) b;
                    // read by another thread than the writer's: a torn pair of indices is clamped, never trusted
                    pending += Math.max(0, (boolean) h.writeBufferForWrite.invoke(handler)
                            ? buffer.position() : buffer.remaining());
                }
            }
        } catch (Throwable t) {
            // a socket being closed under our feet: what was counted so far
        }
        try {
            Object wb = h.nonBlockingBuffer == null ? null : h.nonBlockingBuffer.invoke(socket);
            Object deque = wb == null || h.nonBlockingBuffers == null ? null : h.nonBlockingBuffers.invoke(wb);
            if (deque instanceof Iterable && h.holderBuffer != null && h.holderFlipped != null) {
                // a LinkedBlockingDeque: its iterator is weakly consistent, safe beside the writer
                for (Object holder : (Iterable<?>) deque) {
                    ByteBuffer b = (ByteBuffer) h.holderBuffer.invoke(holder);
                    pending += Math.max(0, (boolean) h.holderFlipped.invoke(holder) ? b.remaining() : b.position());
                }
            }
        } catch (Throwable t) {
            // as above
        }
        return pending;
    }

    private static Object invokeOrNull(MethodHandle getter, Object target) {
        if (getter == null) {
            return null;
        }
        try {
            return getter.invoke(target);
        } catch (Throwable t) {
            return null;
        }
    }

    private static Handles resolve(ClassLoader loader) {
        Handles h = new Handles();
        h.socketBase = Reference.type(SOCKET_BASE).load(loader);
        h.streamOb = STREAM_OB.resolve(loader);
        h.obBuffer = OB_BB.resolve(loader);
        h.obClosed = OB_CLOSED.resolve(loader);
        h.obBlocking = OB_BLOCKING.resolve(loader);
        h.obCoyoteResponse = OB_COYOTE_RESPONSE.resolve(loader);
        h.responseHook = RESPONSE_HOOK.resolve(loader);
        h.responseNote = RESPONSE_NOTE.resolve(loader);
        h.processorSocket = PROCESSOR_SOCKET.resolve(loader);
        h.processorResponse = PROCESSOR_RESPONSE.resolve(loader);
        h.servletResponseOb = SERVLET_RESPONSE_OB.resolve(loader);
        h.socketBufferHandler = SOCKET_BUFFER_HANDLER.resolve(loader);
        h.writeBuffer = HANDLER_WRITE_BUFFER.resolve(loader);
        h.writeBufferForWrite = HANDLER_FOR_WRITE.resolve(loader);
        h.nonBlockingBuffer = SOCKET_NON_BLOCKING.resolve(loader);
        h.nonBlockingBuffers = NON_BLOCKING_BUFFERS.resolve(loader);
        h.holderBuffer = HOLDER_BUF.resolve(loader);
        h.holderFlipped = HOLDER_FLIPPED.resolve(loader);
        h.currentProcessor = SOCKET_PROCESSOR.resolve(loader);
        h.socketClosed = SOCKET_CLOSED.resolve(loader);
        h.remoteAddr = SOCKET_REMOTE_ADDR.resolve(loader);
        h.remotePort = SOCKET_REMOTE_PORT.resolve(loader);
        h.localAddr = SOCKET_LOCAL_ADDR.resolve(loader);
        h.localPort = SOCKET_LOCAL_PORT.resolve(loader);
        h.socketGet = SOCKET_GET.resolve(loader);
        h.channelIo = CHANNEL_IO.resolve(loader);
        return h;
    }

    @Override
    public Object connectionOf(Object stream) {
        return isStream(stream) ? socketOf(stream) : null;
    }

    /**
     * The guard's {@code close}: the socket's output is shut down ({@code SocketChannel.shutdownOutput()}), and
     * Tomcat ends the connection as it ends one whose client went away. The client reads an end of stream after what
     * the kernel already holds; Tomcat's own next write to the socket (the flush of an async response's buffered
     * bytes, when the poller reports the socket writable, which it now does at once; or a blocking write waiting for
     * the socket, which the poller wakes) fails as a write to a vanished client does ("Broken pipe"), and Tomcat
     * dispatches the error to the application's listeners, closes the socket, releases its buffers and recycles the
     * request on its own threads.
     *
     * <p>Not the socket wrapper's {@code close()}: from another thread than the request's it recycles the processor
     * under the running request (Tomcat logs {@code RecycleRequiredException}, and the application's
     * {@code AsyncContext.complete()} then throws). Nor the coyote response's {@code action(ActionCode.CLOSE_NOW)}
     * on top of the shutdown: Tomcat then handles the error twice, once for the action's dispatch and once for the
     * failed write, and logs a forced recycle of the request, which a client going away does not cause.
     */
    @Override
    public boolean close(Object transport) {
        Handles h = handles.get(transport.getClass());
        SocketChannel channel = channelOf(h, socketOf(transport));
        if (channel == null) {
            return false;
        }
        try {
            channel.shutdownOutput();
            return true;
        } catch (ClosedChannelException e) {
            // closed meanwhile: closed all the same
            return true;
        } catch (Throwable t) {
            return false;
        }
    }

    private static SocketChannel channelOf(Handles h, Object socket) {
        if (socket == null || h.socketGet == null || h.channelIo == null) {
            return null;
        }
        try {
            Object nioChannel = h.socketGet.invoke(socket);
            Object io = nioChannel == null ? null : h.channelIo.invoke(nioChannel);
            return io instanceof SocketChannel ? (SocketChannel) io : null;
        } catch (Throwable t) {
            return null;
        }
    }

    @Override
    public boolean isOpen(Object transport) {
        Handles h = handles.get(transport.getClass());
        try {
            if (isStream(transport)) {
                Object ob = invokeOrNull(h.streamOb, transport);
                return ob != null && (h.obClosed == null || !(boolean) h.obClosed.invoke(ob));
            }
            return h.socketClosed == null || !(boolean) h.socketClosed.invoke(transport);
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public boolean isBlocking(Object stream) {
        if (!isStream(stream)) {
            return false;
        }
        Handles h = handles.get(stream.getClass());
        try {
            Object ob = invokeOrNull(h.streamOb, stream);
            return ob != null && h.obBlocking != null && (boolean) h.obBlocking.invoke(ob);
        } catch (Throwable t) {
            return false;
        }
    }

    /** The socket's addresses; an async stream has no address of its own: its socket has. */
    @Override
    public SocketAddress address(Object transport, boolean remote) {
        Object socket = socketOf(transport);
        if (socket == null) {
            return null;
        }
        Handles h = handles.get(socket.getClass());
        MethodHandle addr = remote ? h.remoteAddr : h.localAddr;
        MethodHandle port = remote ? h.remotePort : h.localPort;
        if (addr == null || port == null) {
            return null;
        }
        try {
            String a = (String) addr.invoke(socket);
            int p = (int) port.invoke(socket);
            if (a != null && p >= 0 && isIpLiteral(a)) {
                // an IP literal: no name look-up
                return new InetSocketAddress(InetAddress.getByName(a), p);
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
