package io.highwater.http2;

import io.highwater.core.Monitor;
import io.highwater.core.StackInspector;
import io.highwater.core.StreamName;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;
import io.highwater.core.TransportProbe;
import io.highwater.http2.bootstrap.Http2Calls;

import java.lang.reflect.Method;
import java.net.SocketAddress;

import static io.highwater.base.Members.get;
import static io.highwater.base.Members.invoke;

/**
 * Streams of Netty's remote flow controller ({@code DefaultHttp2RemoteFlowController$FlowState}) that no other part of
 * the agent watches: those of writers that call the HTTP/2 encoder directly ({@code Http2ConnectionHandler} subclasses,
 * Vert.x, Armeria), and those of an {@code Http2FrameCodec} without stream channels. A stream is tracked by its
 * {@code FlowState}, as one stream of its connection (the connection's channel is its key, so the channel's outbound
 * buffer in layer {@code netty} adds to it).
 *
 * <p>Stop signal: Netty's own {@code isWritable(stream)} is false (the stream's window is at most what it has queued,
 * or the connection's window is at most what all streams have queued, or the channel is unwritable), seen when a frame
 * is enqueued into a stream that holds more than {@link Http2Calls#FLOOR}. Go: {@code isWritable(stream)} again, or
 * the stream closed, found by the agent's timer. Pending bytes: {@code FlowState.pendingBytes()}, Netty's own count.
 *
 * <p>Ignored write ({@code stream_window_exhausted}): a frame enqueued while the stream is not writable, with more
 * than the tolerance beyond {@link Http2Calls#FLOOR} already queued, made by the application: the first application
 * frame on the writing thread, outside a pipeline handler's {@code write} (a frame that reaches the encoder through a
 * handler's {@code write} was an application write into a pipeline, judged where it entered it).
 *
 * <p>Left to others, so that no stream is counted twice: streams with a stream channel (the stream-channel part of
 * this integration judges the child's writes and reads the same {@code FlowState}), and gRPC's connections (the grpc
 * integration: its calls' {@code numSentBytesQueued} include the flow controller's bytes).
 */
final class FlowControllerStreams implements TransportProbe {

    private static final String GRPC_SERVER = "io.grpc.netty.NettyServerHandler";
    private static final String GRPC_CLIENT = "io.grpc.netty.NettyClientHandler";
    /** The stream-channel high-water mark the tolerance is measured in (see {@link Http2Calls#FLOOR}). */
    static final long MARK = Http2Calls.FLOOR;

    /** Whether a handler class is gRPC's (any relocation): its streams are the grpc integration's. */
    private static final ClassValue<Boolean> GRPC_HANDLERS = new ClassValue<Boolean>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                String n = c.getName();
                if (n.endsWith(GRPC_SERVER) || n.endsWith(GRPC_CLIENT)) {
                    return true;
                }
            }
            return false;
        }
    };

    /** The controller's public {@code isWritable(Http2Stream)}, per controller class (per Netty copy). */
    private static final ClassValue<Method> IS_WRITABLE = new ClassValue<Method>() {
        @Override
        protected Method computeValue(Class<?> type) {
            for (Method m : type.getMethods()) {
                if (m.getName().equals("isWritable") && m.getParameterCount() == 1
                        && m.getReturnType() == boolean.class) {
                    return m;
                }
            }
            return null;
        }
    };

    private final Monitor monitor;
    private final Tracker tracker;
    private final PathTable paths;

    FlowControllerStreams(Monitor monitor, PathTable paths) {
        this.monitor = monitor;
        this.paths = paths;
        this.tracker = monitor.tracker(Http2Integration.LAYER, this);
    }

    /** See {@link io.highwater.http2.bootstrap.Http2Hooks#enqueued}; on the connection's event loop. */
    void enqueued(Object state, Object frame, long pendingBefore) {
        Object size = invoke(frame, "size");
        Object stream = get(state, "stream");
        Object controller = get(state, "this$0");
        Object ctx = get(controller, "ctx");
        if (!(size instanceof Integer) || stream == null || ctx == null || Boolean.TRUE.equals(get(state, "cancelled"))
                || isOthers(ctx, stream)) {
            return;
        }
        Boolean writable = isWritable(controller, stream);
        if (writable == null || writable) {
            // the stream said go: the frame goes out at the next flush
            return;
        }
        TrackedConnection c = tracker.track(state, false, pendingBefore);
        if (c != null) {
            if (c.stream() == null) {
                Object id = invoke(stream, "id");
                Object channel = invoke(ctx, "channel");
                c.stream(StreamName.path(id instanceof Integer ? paths.get(channel, (Integer) id) : null));
            }
            if (!c.isWaiting()) {
                monitor.stop(c, pendingBefore);
                monitor.captureTrace(c);
            }
            c.observePending(pendingBefore);
        }
        // HEADERS queued behind DATA, an empty end of stream: nothing added to the pile
        int bytes = (Integer) size;
        if (bytes <= 0 || !monitor.beyondTolerance(pendingBefore, MARK)) {
            return;
        }
        StackInspector.Result walked = monitor.inspector().inspectPipelineWrite();
        if (walked.forwarded || walked.function == null) {
            // through a handler's write (judged where it entered the pipeline), or no application frame at all (a
            // library draining its own queue on the event loop): not an application write into the flow controller
            return;
        }
        if (c != null) {
            monitor.captureTrace(c);
        }
        monitor.ignoredWrite(c, Http2Integration.STREAM_WINDOW_EXHAUSTED, bytes, walked);
    }

    /**
     * A stream found at attach without a stream channel (see {@link Http2Discovery}; on the connection's event loop):
     * tracked when its state holds more than {@link #MARK} and Netty says it is not writable, the same rule as at an
     * enqueued frame; its wait counted from now, its episode marked as begun before. No write is judged.
     */
    void foundAtAttach(Object state, Object controller, Object stream, Object channel) {
        Object pending = invoke(state, "pendingBytes");
        if (!(pending instanceof Long) || (Long) pending <= MARK || Boolean.TRUE.equals(get(state, "cancelled"))
                || tracker.get(state) != null || !Boolean.FALSE.equals(isWritable(controller, stream))) {
            return;
        }
        TrackedConnection c = tracker.track(state, true, (Long) pending);
        if (c != null) {
            if (c.stream() == null) {
                // opened before the attach: its HEADERS were not seen, so the path is unknown
                Object id = invoke(stream, "id");
                c.stream(StreamName.path(id instanceof Integer ? paths.get(channel, (Integer) id) : null));
            }
            monitor.foundAtAttach(c, (Long) pending);
        }
    }

    /**
     * See {@link io.highwater.http2.bootstrap.Http2Hooks#cancelled}: a tracked stream closed with {@code pendingBefore}
     * bytes it never wrote, which ends its episode as a connection closed with bytes left. Whether it was one of these.
     */
    boolean cancelled(Object state, long pendingBefore) {
        TrackedConnection c = tracker.get(state);
        if (c == null) {
            return false;
        }
        monitor.closed(c, pendingBefore);
        return true;
    }

    /** Whether a connection handler is gRPC's (any relocation): its streams are the grpc integration's. */
    static boolean isGrpc(Object handler) {
        return GRPC_HANDLERS.get(handler.getClass());
    }

    /** Whether the stream is someone else's: it has a stream channel, or the connection is gRPC's. */
    private static boolean isOthers(Object ctx, Object stream) {
        Object handler = invoke(ctx, "handler");
        if (handler == null || GRPC_HANDLERS.get(handler.getClass())) {
            return true;
        }
        // Http2FrameCodec keeps its DefaultHttp2FrameStream in the stream's property map; its attachment is the child
        Object values = get(get(stream, "properties"), "values");
        return values instanceof Object[] && Http2Adapter.streamChannelOf((Object[]) values) != null;
    }

    /** Netty's own {@code isWritable(stream)} of the stream's controller; null when it cannot be read. */
    private static Boolean isWritable(Object controller, Object stream) {
        Method m = controller == null ? null : IS_WRITABLE.get(controller.getClass());
        if (m == null) {
            return null;
        }
        try {
            return (Boolean) m.invoke(controller, stream);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static Object channel(Object state) {
        return invoke(get(get(state, "this$0"), "ctx"), "channel");
    }

    // ---- probe: the transport is the stream's FlowState

    @Override
    public long pendingBytes(Object state) {
        Object p = invoke(state, "pendingBytes");
        return p instanceof Long ? (Long) p : -1;
    }

    @Override
    public boolean isOpen(Object state) {
        // Netty cancels a stream's state when the stream closes (its frames can never be written then)
        return !Boolean.TRUE.equals(get(state, "cancelled")) && Boolean.TRUE.equals(invoke(channel(state), "isOpen"));
    }

    @Override
    public SocketAddress peer(Object state) {
        Object a = invoke(channel(state), "remoteAddress");
        return a instanceof SocketAddress ? (SocketAddress) a : null;
    }

    @Override
    public SocketAddress local(Object state) {
        Object a = invoke(channel(state), "localAddress");
        return a instanceof SocketAddress ? (SocketAddress) a : null;
    }

    @Override
    public int stopState(Object state) {
        Boolean w = isWritable(get(state, "this$0"), get(state, "stream"));
        return w == null ? -1 : w ? 0 : 1;
    }

    @Override
    public Object connection(Object state) {
        return channel(state);
    }

    @Override
    public long connectionWindow(Object state) {
        return connectionWindowOf(get(state, "this$0"));
    }

    /** The connection's flow-control window left in {@code controller} (stream 0's); -1 when it cannot be read. */
    static long connectionWindowOf(Object controller) {
        Object w = invoke(get(controller, "connectionState"), "windowSize");
        return w instanceof Integer ? (Integer) w : -1;
    }
}
