package io.highwater.http2;

import io.highwater.base.Members;
import io.highwater.core.Monitor;
import io.highwater.core.StackInspector;
import io.highwater.core.StreamName;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;
import io.highwater.core.TransportProbe;
import io.highwater.http2.bootstrap.Http2Hooks;
import io.highwater.netty.NettyAdapter;

import java.net.SocketAddress;

import static io.highwater.base.Members.get;
import static io.highwater.base.Members.invoke;

/**
 * Netty's HTTP/2 stream channels (children of {@code Http2MultiplexHandler}: plain Netty h2c/h2, Reactor Netty)
 * onto the model, in layer {@code http2}. A stream is one stream of its connection, whose key is the parent channel,
 * so the parent's outbound buffer (layer {@code netty}) adds to it.
 *
 * <p>Stop signal: the stream channel turns unwritable (its pending bytes above its high-water mark, 64 KiB by
 * default; also while the parent is unwritable). Go: writable again. A write into a stream channel while it is
 * unwritable, with its pending bytes beyond the tolerance, by the application, is an ignored write
 * ({@code stream_window_exhausted}). Pending bytes: what Netty's remote flow controller holds for the stream
 * ({@code FlowState.pendingBytes}: the frames its window, the connection's window or the socket did not let out),
 * read from Netty's own counter.
 */
final class Http2Adapter implements Http2Hooks, NettyAdapter.BufferlessWrites, TransportProbe {

    private static final String FLOW_STATE = "DefaultHttp2RemoteFlowController$FlowState";
    /** What Netty's stream channel counts per frame on top of a DATA frame's bytes (its frame size estimator). */
    private static final long FRAME_OVERHEAD = 9;

    /*
     * What runs at every writability flip of a stream channel (a fast stream flips at every flush, tens of thousands
     * of times a second) reads through these: one class value and one handle per read.
     */
    private static final Members.Reader IS_WRITABLE = Members.methodReader("isWritable");
    private static final Members.Reader IS_OPEN = Members.methodReader("isOpen");
    private static final Members.Reader PARENT = Members.methodReader("parent");
    private static final Members.Reader TOTAL_PENDING_SIZE = Members.fieldReader("totalPendingSize");
    /** A stream channel's frame stream, and a frame stream's {@code Http2Stream}: both fields are named so. */
    private static final Members.Reader STREAM = Members.fieldReader("stream");
    private static final Members.Reader PROPERTIES = Members.fieldReader("properties");
    private static final Members.Reader VALUES = Members.fieldReader("values");
    private static final Members.Reader PENDING_BYTES = Members.methodReader("pendingBytes");
    private static final Members.Reader UNSAFE = Members.methodReader("unsafe");
    private static final Members.Reader OUTBOUND_BUFFER = Members.methodReader("outboundBuffer");
    private static final Members.Reader TOTAL_PENDING_WRITE_BYTES = Members.methodReader("totalPendingWriteBytes");

    private final Monitor monitor;
    private final Tracker tracker;
    private final PathTable paths = new PathTable();
    private volatile NettyAdapter netty;
    /** For the Netty gate's timer (see {@code UnwritableGate}): one instance for every stream channel it holds. */
    private final java.util.function.Predicate<Object> open = this::isOpen;
    /** Streams without a stream channel, watched in Netty's remote flow controller. */
    private final FlowControllerStreams flowStreams;

    Http2Adapter(Monitor monitor) {
        this.monitor = monitor;
        this.tracker = monitor.tracker(Http2Integration.LAYER, this);
        this.flowStreams = new FlowControllerStreams(monitor, paths);
    }

    private static final ClassValue<Boolean> STREAM_CHANNELS = new ClassValue<Boolean>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                if (c.getName().endsWith(Http2Instrumentation.STREAM_CHANNEL)) {
                    return true;
                }
            }
            return false;
        }
    };

    static boolean isStreamChannel(Object channel) {
        return STREAM_CHANNELS.get(channel.getClass());
    }

    @Override
    public void writeWhileUnwritable(NettyAdapter netty, Object ctx, Object child, Object msg) {
        this.netty = netty;
        if (!isStreamChannel(child) || !isOpen(child) || stopState(child) == 0) {
            return;
        }
        long childPending = childPending(child);
        TrackedConnection c = track(child, false);
        if (c != null) {
            long pending = Math.max(0, pendingBytes(c, child));
            if (!c.isWaiting()) {
                monitor.stop(c, pending);
            }
            c.observePending(pending);
        }
        // a HEADERS frame, an empty end of stream: nothing added to the pile
        long size = netty.messageSize(child, msg) - FRAME_OVERHEAD;
        if (size <= 0 || !monitor.beyondTolerance(childPending, netty.highWaterMark(child))) {
            return;
        }
        StackInspector.Result walked = netty.whoseWrite(ctx);
        if (walked != null && walked.forwarded) {
            return;
        }
        if (c != null) {
            monitor.captureTrace(c);
        }
        monitor.ignoredWrite(c, Http2Integration.STREAM_WINDOW_EXHAUSTED, size, walked);
    }

    @Override
    public void childWritabilityChanged(Object child) {
        // called as the transition is fired: the field already says the new state. A fast stream flips at every
        // flush, so the state is read once, for the gate and here alike.
        int state = NettyAdapter.streamWritabilityChanged(child, this, open);
        if (state == 0) {
            TrackedConnection c = tracker.get(child);
            if (c != null) {
                monitor.go(c);
            }
        } else if (state == 1 && isOpen(child)) {
            TrackedConnection c = track(child, true);
            if (c != null) {
                monitor.stop(c, Math.max(0, pendingBytes(c, child)));
                monitor.captureTrace(c);
            }
        }
    }

    @Override
    public void headers(Object channel, int streamId, CharSequence path) {
        paths.put(channel, streamId, path);
    }

    @Override
    public void enqueued(Object flowState, Object frame, long pendingBefore) {
        flowStreams.enqueued(flowState, frame, pendingBefore);
    }

    /**
     * After an attach: the connections' HTTP/2 streams are looked for on their event loops ({@link Http2Discovery});
     * returns how many loops were asked.
     */
    int discoverAtAttach() {
        return new Http2Discovery(this, flowStreams).start();
    }

    /**
     * A stream channel found at attach (see {@link Http2Discovery}; on its parent's event loop): when it is open and
     * unwritable, tracked as if its transition had been seen (into the Netty gate, so that the application's next
     * write into it is judged; its wait counted from now, its episode marked as begun before). No write is judged.
     */
    void foundAtAttach(Object child) {
        if (!isStreamChannel(child) || !isOpen(child) || stopState(child) != 1) {
            return;
        }
        NettyAdapter.streamWritabilityChanged(child, this, open);
        if (tracker.get(child) != null) {
            // its transition was seen since the attach
            return;
        }
        long pending = Math.max(0, pendingBytes(child));
        TrackedConnection c = track(child, true);
        if (c != null) {
            monitor.foundAtAttach(c, pending);
        }
    }

    /** The stream channel of a stream, from its property map's values ({@code DefaultHttp2FrameStream.attachment}). */
    static Object streamChannelOf(Object[] values) {
        for (Object v : values) {
            if (v != null && v.getClass().getName().endsWith("Http2FrameCodec$DefaultHttp2FrameStream")) {
                Object child = get(v, "attachment");
                if (child != null && isStreamChannel(child)) {
                    return child;
                }
            }
        }
        return null;
    }

    /** The stream's {@code FlowState} in Netty's remote flow controller, from its property map's values, or null. */
    static Object flowStateOf(Object[] values) {
        // the flow controller's property key has the same index in every stream of a connection, and in every
        // connection set up alike: try where it was last found first
        int at = flowStateSlot;
        if (at < values.length && values[at] != null && FLOW_STATES.get(values[at].getClass())) {
            return values[at];
        }
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null && FLOW_STATES.get(values[i].getClass())) {
                flowStateSlot = i;
                return values[i];
            }
        }
        return null;
    }

    @Override
    public void cancelled(Object flowState, long pendingBefore) {
        if (flowStreams.cancelled(flowState, pendingBefore)) {
            return;
        }
        Object values = VALUES.read(PROPERTIES.read(STREAM.read(flowState)));
        Object child = values instanceof Object[] ? streamChannelOf((Object[]) values) : null;
        TrackedConnection c = child == null ? null : tracker.get(child);
        if (c != null) {
            // the stream channel's own close comes later and finds nothing left: the flow controller knew the bytes
            monitor.closed(c, pendingBefore);
        }
    }

    private TrackedConnection track(Object child, boolean atStopSignal) {
        TrackedConnection c = tracker.track(child, atStopSignal);
        if (c != null && c.stream() == null) {
            // the request's :path, remembered when its HEADERS were read (null: not remembered, say before an attach)
            Object id = invoke(invoke(child, "stream"), "id");
            String path = id instanceof Integer ? paths.get(invoke(child, "parent"), (Integer) id) : null;
            c.stream(StreamName.path(path));
        }
        return c;
    }

    /** The stream channel's own count: frames not written out yet, its share of the parent's buffer included. */
    private static long childPending(Object child) {
        Object v = TOTAL_PENDING_SIZE.read(child);
        return v instanceof Long ? (Long) v : 0;
    }

    private static final ClassValue<Boolean> FLOW_STATES = new ClassValue<Boolean>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return type.getName().endsWith(FLOW_STATE);
        }
    };

    /** The stream's flow-control state in Netty's remote flow controller, or null (the stream is closed). */
    private static Object flowState(Object child) {
        // the stream channel's frame stream, its Http2Stream, whose property map holds the flow controller's state
        Object stream = STREAM.read(STREAM.read(child));
        Object values = VALUES.read(PROPERTIES.read(stream));
        return values instanceof Object[] ? flowStateOf((Object[]) values) : null;
    }

    /** Where {@link #flowState} last found the flow controller's state in a stream's property map. */
    private static volatile int flowStateSlot;

    /**
     * As {@link #pendingBytes(Object)}, for a tracked stream channel: its flow-controller state is looked up once
     * (four reads and a scan of the stream's property map) and kept on {@code c}, since a stream keeps its state for
     * life; then each stop reads one counter. A fast stream stops at every flush.
     */
    private long pendingBytes(TrackedConnection c, Object child) {
        Object state = c.probeState();
        if (state == null) {
            state = flowState(child);
            if (state == null) {
                // no stream yet (a client's stream before its HEADERS) or no state to read: as the probe reads it
                return pendingBytes(child);
            }
            c.probeState(state);
        }
        Object p = PENDING_BYTES.read(state);
        return p instanceof Long ? (Long) p : pendingBytes(child);
    }

    // ---- probe

    /**
     * Read at every collection: what the flow controller holds for the stream, or, when more, what the stream
     * channel counts short of the connection's outbound buffer ({@link #beforeTheConnection}).
     */
    @Override
    public long pendingBytes(Object child) {
        Object state = flowState(child);
        Object p = state == null ? null : PENDING_BYTES.read(state);
        if (p instanceof Long) {
            return Math.max((Long) p, beforeTheConnection(child));
        }
        // no flow-controller state to read (a closed stream): what the stream channel itself still counts
        return isOpen(child) ? childPending(child) : -1;
    }

    /**
     * The stream channel counts a frame from the moment it is written to it until the connection has written it to
     * the socket: with the writes an application thread made that the event loop has not run yet, which the flow
     * controller has not seen (an export's writer ran 0.4 to 2.3 s ahead of its loop in Http2TlsTest: tens of MB on
     * the heap, nowhere in the flow controller). Less the connection's whole outbound buffer (the netty layer's share,
     * which holds this stream's frames on their way to the socket), no byte is counted twice; 0 when that buffer
     * cannot be read.
     */
    private static long beforeTheConnection(Object child) {
        Object buffer = OUTBOUND_BUFFER.read(UNSAFE.read(PARENT.read(child)));
        Object connection = buffer == null ? null : TOTAL_PENDING_WRITE_BYTES.read(buffer);
        return connection instanceof Long ? childPending(child) - (Long) connection : 0;
    }

    @Override
    public boolean isOpen(Object child) {
        return Boolean.TRUE.equals(IS_OPEN.read(child));
    }

    @Override
    public SocketAddress peer(Object child) {
        NettyAdapter n = netty;
        Object a = n != null ? n.remoteAddress(child) : invoke(invoke(child, "parent"), "remoteAddress");
        return a instanceof SocketAddress ? (SocketAddress) a : null;
    }

    @Override
    public SocketAddress local(Object child) {
        NettyAdapter n = netty;
        Object a = n != null ? n.localAddress(child) : invoke(invoke(child, "parent"), "localAddress");
        return a instanceof SocketAddress ? (SocketAddress) a : null;
    }

    @Override
    public int stopState(Object child) {
        Object w = IS_WRITABLE.read(child);
        return w == null ? -1 : Boolean.TRUE.equals(w) ? 0 : 1;
    }

    @Override
    public Object connection(Object child) {
        return PARENT.read(child);
    }

    @Override
    public long connectionWindow(Object child) {
        Object state = flowState(child);
        return state == null ? -1 : FlowControllerStreams.connectionWindowOf(get(state, "this$0"));
    }
}
