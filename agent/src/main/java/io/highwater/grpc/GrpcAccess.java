package io.highwater.grpc;

import io.highwater.base.Members;
import io.highwater.core.TransportProbe;

import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

import static io.highwater.base.Members.get;
import static io.highwater.base.Members.invoke;
import static io.highwater.base.Members.isA;

/**
 * Reads gRPC's own accounting, reflectively and on slow paths only, by member names that are the same in grpc-netty
 * and grpc-netty-shaded (whose transport classes live under {@code io.grpc.netty.shaded.io.grpc.netty}): a call's
 * transport state ({@code AbstractStream$TransportState}), its queued bytes and threshold, its Netty channel
 * ({@code handler.ctx.channel()}, of whichever copy of Netty), its method name. Also the probe of the gRPC calls the
 * agent tracks: a call is one stream of its connection, whose key is the Netty channel, so that Netty's outbound
 * buffer of the same channel adds to it.
 */
final class GrpcAccess implements TransportProbe {

    private static final String ABSTRACT_STREAM = "io.grpc.internal.AbstractStream";
    private static final String SERVER_CALL = GrpcInstrumentation.SERVER_CALL;
    /** How far the search from a client call to its transport stream goes (the wrappers are 5-6 objects deep). */
    private static final int SEARCH_DEPTH = 8;
    private static final int SEARCH_OBJECTS = 300;
    private static final int CACHE_MAX = 10_000;

    /** A client call's transport state, found once by a search (the call wraps it in retry and delayed streams). */
    private final Map<Object, WeakReference<Object>> clientStates = Collections.synchronizedMap(new WeakHashMap<>());

    // ---- calls

    /** The transport state of {@code call} (a ServerCallImpl or ClientCallImpl), or null when there is none yet. */
    Object stateOfCall(Object call) {
        Object stream = get(call, "stream");
        if (stream == null) {
            return null;
        }
        if (isA(stream.getClass(), ABSTRACT_STREAM)) {
            return transportState(stream);
        }
        WeakReference<Object> cached = clientStates.get(call);
        Object state = cached == null ? null : cached.get();
        if (state != null) {
            return state;
        }
        Object found = search(stream, c -> isA(c, ABSTRACT_STREAM));
        if (found == null) {
            return null;
        }
        state = transportState(found);
        if (state != null) {
            if (clientStates.size() >= CACHE_MAX) {
                clientStates.clear();
            }
            clientStates.put(call, new WeakReference<>(state));
        }
        return state;
    }

    private static Object transportState(Object stream) {
        return invoke(stream, "transportState");
    }

    /** {@code package.Service/Method} of the call of {@code state} ({@code call} when known), or null. */
    String fullMethodName(Object state, Object call) {
        Object name = get(state, "methodName");  // a client's transport state carries it
        if (name instanceof String) {
            return (String) name;
        }
        if (call == null) {
            // a server's: its listener chain leads to the ServerCallImpl
            call = search(get(state, "listener"), c -> c.getName().equals(SERVER_CALL));
        }
        if (call == null) {
            return null;
        }
        Object full = invoke(get(call, "method"), "getFullMethodName");
        return full instanceof String ? (String) full : null;
    }

    // ---- transport state

    int queued(Object state) {
        Object v = get(state, "numSentBytesQueued");
        return v instanceof Integer ? (Integer) v : -1;
    }

    int threshold(Object state) {
        Object v = get(state, "onReadyThreshold");
        return v instanceof Integer ? (Integer) v : 32 * 1024;
    }

    /** The Netty channel of the call's connection (any copy of Netty), or null. */
    Object channel(Object state) {
        Object ctx = get(get(state, "handler"), "ctx");
        return ctx == null ? null : invoke(ctx, "channel");
    }

    // ---- probe

    @Override
    public long pendingBytes(Object state) {
        return queued(state);
    }

    @Override
    public boolean isOpen(Object state) {
        return !Boolean.TRUE.equals(get(state, "deallocated"));
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
        int q = queued(state);
        return q < 0 ? -1 : q >= threshold(state) ? 1 : 0;
    }

    @Override
    public Object connection(Object state) {
        return channel(state);
    }

    // ---- reflection

    /**
     * The first object reachable from {@code root} through gRPC's own objects (and collections of them) whose class
     * {@code wanted} accepts; bounded in depth and in objects visited.
     */
    private static Object search(Object root, java.util.function.Predicate<Class<?>> wanted) {
        if (root == null) {
            return null;
        }
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> queue = new ArrayDeque<>();
        queue.add(new Object[] {root, 0});
        while (!queue.isEmpty() && seen.size() < SEARCH_OBJECTS) {
            Object[] next = queue.poll();
            Object o = next[0];
            int depth = (Integer) next[1];
            if (!seen.add(o)) {
                continue;
            }
            if (wanted.test(o.getClass())) {
                return o;
            }
            if (depth >= SEARCH_DEPTH) {
                continue;
            }
            if (o instanceof Collection) {
                for (Object e : ((Collection<?>) o).toArray()) {
                    if (e != null && isGrpc(e.getClass())) {
                        queue.add(new Object[] {e, depth + 1});
                    }
                }
                continue;
            }
            for (Class<?> c = o.getClass(); c != null && isGrpc(c); c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                        continue;
                    }
                    Object v;
                    try {
                        f.setAccessible(true);
                        v = Members.read(f, o);
                    } catch (RuntimeException e) {
                        continue;
                    }
                    if (v != null && (isGrpc(v.getClass()) || v instanceof Collection)) {
                        queue.add(new Object[] {v, depth + 1});
                    }
                }
            }
        }
        return null;
    }

    /** gRPC's own classes, relocated ones included; not its copy of Netty. */
    private static boolean isGrpc(Class<?> c) {
        String n = c.getName();
        return (n.startsWith("io.grpc.") || n.contains(".io.grpc.")) && !n.contains("io.netty.");
    }

}
