package io.highwater.http2;

import io.highwater.base.Log;
import io.highwater.netty.NettyDiscovery;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static io.highwater.base.Members.get;
import static io.highwater.base.Members.invoke;

/**
 * Finds, when the agent attaches to a running JVM, the HTTP/2 streams that already hold bytes: attached late, the
 * agent sees a flow-controller stream only at its next frame enqueued above the floor and a stream channel only at its
 * next writability flip, so a writer that is done, its pile only draining behind a slow peer, would stay invisible.
 *
 * <p>Every channel of every Netty event loop is visited on its own loop (the netty integration's search,
 * {@link NettyDiscovery#forEachChannel}); a channel whose pipeline holds an {@code Http2ConnectionHandler} (any
 * relocation, gRPC's excepted: its calls are the grpc integration's) with Netty's
 * {@code DefaultHttp2RemoteFlowController} has its active streams walked ({@code Http2Connection.forEachActiveStream},
 * public API). A stream with a stream channel that is unwritable is handed to {@link Http2Adapter#foundAtAttach} (as
 * if its transition had been seen); a stream without one, whose {@code FlowState} holds more than the floor and that
 * Netty says is not writable, to {@link FlowControllerStreams#foundAtAttach}. Nothing is judged: no write was seen.
 *
 * <p>Bounded: at most {@link #MAX_CONNECTIONS} HTTP/2 connections per event loop and {@link #MAX_STREAMS} streams per
 * connection are looked at (each cap logged once when reached); the channels come from the netty search's own bound.
 */
final class Http2Discovery {

    static final int MAX_CONNECTIONS = 10_000;
    static final int MAX_STREAMS = 1_000;
    private static final String CONNECTION_HANDLER = "io.netty.handler.codec.http2.Http2ConnectionHandler";
    private static final String STREAM_VISITOR = "io.netty.handler.codec.http2.Http2StreamVisitor";
    private static final String REMOTE_FLOW_CONTROLLER = "io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController";

    private final Http2Adapter adapter;
    private final FlowControllerStreams flowStreams;
    /** HTTP/2 connections looked at, per loop (the visits of one loop run on its thread, one after the other). */
    private final Map<Object, AtomicInteger> perLoop = new java.util.concurrent.ConcurrentHashMap<>();

    Http2Discovery(Http2Adapter adapter, FlowControllerStreams flowStreams) {
        this.adapter = adapter;
        this.flowStreams = flowStreams;
    }

    /** Asks every Netty event loop to visit its channels; returns how many loops were asked. */
    int start() {
        return NettyDiscovery.forEachChannel("http2", this::visit);
    }

    /** On the channel's event loop. */
    private void visit(Object channel) {
        try {
            Object handler = connectionHandler(channel);
            if (handler == null || FlowControllerStreams.isGrpc(handler)) {
                return;
            }
            Object loop = invoke(channel, "eventLoop");
            if (perLoop.computeIfAbsent(loop == null ? this : loop, k -> new AtomicInteger()).incrementAndGet()
                    > MAX_CONNECTIONS) {
                Log.once("http2-discovery-connections", "http2: more than " + MAX_CONNECTIONS + " HTTP/2 connections on"
                        + " one event loop at attach; the others' streams are seen at their next write or transition");
                return;
            }
            Object controller = invoke(invoke(handler, "encoder"), "flowController");
            if (controller == null || !controller.getClass().getName().endsWith(REMOTE_FLOW_CONTROLLER)) {
                return;
            }
            Object ctx = get(controller, "ctx");
            for (Object stream : activeStreams(invoke(handler, "connection"))) {
                Object[] values = propertyValues(stream);
                Object child = Http2Adapter.streamChannelOf(values);
                if (child != null) {
                    adapter.foundAtAttach(child);
                } else {
                    Object state = Http2Adapter.flowStateOf(values);
                    if (state != null && ctx != null) {
                        flowStreams.foundAtAttach(state, controller, stream, invoke(ctx, "channel"));
                    }
                }
            }
        } catch (RuntimeException | LinkageError e) {
            // never into the host's event loop; the stream is seen at its next write or transition
            Log.once("http2-discovery", "http2: looking for streams at attach failed (" + e + ")");
        }
    }

    /** The channel's {@code Http2ConnectionHandler} (a subclass: {@code Http2FrameCodec}, an application's), or null. */
    private static Object connectionHandler(Object channel) {
        Object pipeline = invoke(channel, "pipeline");
        if (!(pipeline instanceof Iterable)) {
            return null;
        }
        for (Object entry : (Iterable<?>) pipeline) {
            Object h = entry instanceof Map.Entry ? ((Map.Entry<?, ?>) entry).getValue() : null;
            if (h != null && isA(h.getClass(), CONNECTION_HANDLER)) {
                return h;
            }
        }
        return null;
    }

    /**
     * The connection's active streams, at most {@link #MAX_STREAMS}, through its public
     * {@code forEachActiveStream(Http2StreamVisitor)} (the visitor a proxy of that copy's interface: no Netty type is
     * named here).
     */
    private static List<Object> activeStreams(Object connection) {
        List<Object> streams = new ArrayList<>();
        if (connection == null) {
            return streams;
        }
        Class<?> visitorType = null;
        java.lang.reflect.Method forEach = null;
        for (java.lang.reflect.Method m : connection.getClass().getMethods()) {
            if (m.getName().equals("forEachActiveStream") && m.getParameterCount() == 1
                    && m.getParameterTypes()[0].getName().endsWith(STREAM_VISITOR)) {
                forEach = m;
                visitorType = m.getParameterTypes()[0];
            }
        }
        if (forEach == null) {
            return streams;
        }
        Object visitor = Proxy.newProxyInstance(visitorType.getClassLoader(), new Class<?>[] {visitorType},
                (proxy, method, args) -> {
                    if (method.getName().equals("visit") && args != null && args.length == 1) {
                        streams.add(args[0]);
                        if (streams.size() < MAX_STREAMS) {
                            return true;
                        }
                        Log.once("http2-discovery-streams", "http2: more than " + MAX_STREAMS + " active streams on"
                                + " one connection at attach; the others are seen at their next write or transition");
                        return false;
                    }
                    if (method.getName().equals("hashCode")) {
                        return System.identityHashCode(proxy);
                    }
                    if (method.getName().equals("equals")) {
                        return proxy == args[0];
                    }
                    return method.getName().equals("toString") ? "highwater-http2-discovery" : null;
                });
        try {
            forEach.invoke(connection, visitor);
        } catch (ReflectiveOperationException e) {
            Log.once("http2-discovery-walk", "http2: cannot walk a connection's streams at attach (" + e + ")");
        }
        return streams;
    }

    /** The stream's property map ({@code DefaultStream.properties.values}), where codec-http2 keeps its states. */
    private static Object[] propertyValues(Object stream) {
        Object values = get(get(stream, "properties"), "values");
        return values instanceof Object[] ? (Object[]) values : new Object[0];
    }

    private static boolean isA(Class<?> c, String tail) {
        for (; c != null; c = c.getSuperclass()) {
            if (c.getName().endsWith(tail)) {
                return true;
            }
        }
        return false;
    }
}
