package io.highwater.servlet;

import io.highwater.base.Reflect;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
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
 */
final class TomcatAccess {

    static final String STREAM = "org.apache.catalina.connector.CoyoteOutputStream";
    static final String SOCKET_BASE = "org.apache.tomcat.util.net.SocketWrapperBase";
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
    boolean covers(Object transport) {
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
    long pendingBytes(Object transport) {
        Handles h = handles.get(transport.getClass());
        long pending = 0;
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
        MethodHandles.Lookup pub = MethodHandles.publicLookup();
        Class<?> stream = Reflect.load(STREAM, loader);
        Class<?> ob = Reflect.load("org.apache.catalina.connector.OutputBuffer", loader);
        Class<?> coyoteResponse = Reflect.load("org.apache.coyote.Response", loader);
        Class<?> processor = Reflect.load("org.apache.coyote.AbstractProcessor", loader);
        Class<?> servletResponse = Reflect.load("org.apache.catalina.connector.Response", loader);
        Class<?> socketBase = Reflect.load(SOCKET_BASE, loader);
        Class<?> bufferHandler = Reflect.load("org.apache.tomcat.util.net.SocketBufferHandler", loader);
        Class<?> writeBuffer = Reflect.load("org.apache.tomcat.util.net.WriteBuffer", loader);
        Class<?> holder = Reflect.load("org.apache.tomcat.util.buf.ByteBufferHolder", loader);
        h.socketBase = socketBase;
        h.streamOb = Reflect.getter(stream, "ob");
        h.obBuffer = Reflect.getter(ob, "bb");
        h.obCoyoteResponse = Reflect.getter(ob, "coyoteResponse");
        h.responseHook = Reflect.getter(coyoteResponse, "hook");
        h.responseNote = Reflect.method(pub, coyoteResponse, "getNote", MethodType.methodType(Object.class, int.class));
        h.processorSocket = Reflect.getter(processor, "socketWrapper");
        h.processorResponse = Reflect.getter(processor, "response");
        h.servletResponseOb = Reflect.getter(servletResponse, "outputBuffer");
        h.socketBufferHandler = Reflect.getter(socketBase, "socketBufferHandler");
        h.writeBuffer = Reflect.getter(bufferHandler, "writeBuffer");
        h.writeBufferForWrite = Reflect.getter(bufferHandler, "writeBufferConfiguredForWrite");
        h.nonBlockingBuffer = Reflect.getter(socketBase, "nonBlockingWriteBuffer");
        h.nonBlockingBuffers = Reflect.getter(writeBuffer, "buffers");
        h.holderBuffer = Reflect.method(pub, holder, "getBuf", MethodType.methodType(ByteBuffer.class));
        h.holderFlipped = Reflect.method(pub, holder, "isFlipped", MethodType.methodType(boolean.class));
        h.currentProcessor = Reflect.getter(socketBase, "currentProcessor");
        return h;
    }
}
