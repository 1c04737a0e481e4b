package io.highwater.vertx;

import io.highwater.base.Reflect;
import io.highwater.netty.NettyChannels;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

/**
 * Reads Vert.x's and Netty's own state through handles resolved once per class (a {@link ClassValue}, so each class
 * loader's copy of Vert.x gets its own): the agent does not link against Vert.x. Nothing here throws; what cannot be
 * read answers a neutral value (0 bytes, null).
 */
final class VertxAccess {

    /** How many queued messages one reading walks at most; beyond, the bytes are extrapolated from the count. */
    private final int walkMax;
    private final NettyChannels channels = new NettyChannels();

    VertxAccess(int walkMax) {
        this.walkMax = Math.max(1, walkMax);
    }

    /** A Vert.x 5 {@code OutboundMessageQueue} subclass: its owner, its message passing queue and its marks. */
    static final class QueueShape {
        final MethodHandle owner;
        final MethodHandle mqp;
        final MethodHandle signals;

        QueueShape(Class<?> type) {
            owner = Reflect.getter(type, "this$0");
            mqp = Reflect.getter(type, "mqp");
            signals = Reflect.getter(type, "numberOfUnwritableSignals");
        }
    }

    /** Vert.x 5's {@code MessagePassingQueue.MpSc}: the queue, the element set aside, the count, the marks. */
    static final class MqpShape {
        final MethodHandle queue;
        final MethodHandle overflow;
        final MethodHandle wip;
        final MethodHandle highWaterMark;

        MqpShape(Class<?> type) {
            queue = Reflect.getter(type, "queue");
            overflow = Reflect.getter(type, "overflow");
            wip = Reflect.getter(type, "wip");
            highWaterMark = Reflect.getter(type, "highWaterMark");
        }
    }

    private final ClassValue<QueueShape> queues = new ClassValue<QueueShape>() {
        @Override
        protected QueueShape computeValue(Class<?> type) {
            return new QueueShape(type);
        }
    };

    private final ClassValue<MqpShape> mqps = new ClassValue<MqpShape>() {
        @Override
        protected MqpShape computeValue(Class<?> type) {
            return new MqpShape(type);
        }
    };

    /** The owner's connection channel: {@code ConnectionBase.channel()}, or an HTTP/2 stream's {@code conn}'s. */
    private final ClassValue<MethodHandle> channelOfOwner = new ClassValue<MethodHandle>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            return publicNoArg(type, "channel");
        }
    };

    /** An HTTP/2 stream's ({@code VertxHttp2Stream}'s) connection. */
    private final ClassValue<MethodHandle> connOfStream = new ClassValue<MethodHandle>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            return Reflect.getter(type, "conn");
        }
    };

    /** The non-static reference fields a {@code MessageWrite} captured: the message it will write is among them. */
    private final ClassValue<MethodHandle[]> captured = new ClassValue<MethodHandle[]>() {
        @Override
        protected MethodHandle[] computeValue(Class<?> type) {
            List<MethodHandle> out = new ArrayList<>();
            for (Field f : type.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive() || f.getName().startsWith("this$")) {
                    continue;
                }
                MethodHandle h = Reflect.getter(type, f.getName());
                if (h != null) {
                    out.add(h);
                }
            }
            return out.toArray(new MethodHandle[0]);
        }
    };

    /**
     * How many bytes an object written to Netty holds: {@code ByteBuf.readableBytes()}, or its content's for a
     * {@code ByteBufHolder} (HTTP content, WebSocket frames); null for anything else (headers, markers).
     */
    private final ClassValue<MethodHandle> sizes = new ClassValue<MethodHandle>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            try {
                MethodHandles.Lookup pub = MethodHandles.publicLookup();
                Class<?> buf = supertype(type, "io.netty.buffer.ByteBuf");
                if (buf != null) {
                    return pub.findVirtual(buf, "readableBytes", MethodType.methodType(int.class))
                            .asType(MethodType.methodType(int.class, Object.class));
                }
                Class<?> holder = supertype(type, "io.netty.buffer.ByteBufHolder");
                if (holder != null) {
                    String prefix = holder.getName().substring(0,
                            holder.getName().length() - "io.netty.buffer.ByteBufHolder".length());
                    Class<?> content = Class.forName(prefix + "io.netty.buffer.ByteBuf", false, holder.getClassLoader());
                    return MethodHandles.filterReturnValue(
                            pub.findVirtual(holder, "content", MethodType.methodType(content)),
                            pub.findVirtual(content, "readableBytes", MethodType.methodType(int.class)))
                            .asType(MethodType.methodType(int.class, Object.class));
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                // not a message of bytes
            }
            return null;
        }
    };

    /** The class or interface named {@code name} (or a relocated copy's) that {@code type} extends or implements. */
    static Class<?> supertype(Class<?> type, String name) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (c.getName().endsWith(name)) {
                return c;
            }
            for (Class<?> i : c.getInterfaces()) {
                Class<?> found = supertype(i, name);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    private static MethodHandle publicNoArg(Class<?> type, String name) {
        try {
            java.lang.reflect.Method m = type.getMethod(name);
            m.setAccessible(true);
            return MethodHandles.lookup().unreflect(m).asType(MethodType.methodType(Object.class, Object.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    // ---- Vert.x 5 queues

    /** The queue's connection channel (an HTTP/2 stream's connection's), or null. */
    Object channelOfQueue(Object queue) {
        QueueShape q = queues.get(queue.getClass());
        Object owner = invoke(q.owner, queue);
        if (owner == null) {
            return null;
        }
        Object channel = channelOfConnection(owner);
        if (channel == null) {
            // an HTTP/2 stream: its connection
            Object c = invoke(connOfStream.get(owner.getClass()), owner);
            channel = c == null ? null : channelOfConnection(c);
        }
        return channel;
    }

    /** A Vert.x connection's ({@code ConnectionBase}'s) Netty channel, or null. */
    Object channelOfConnection(Object connection) {
        return invoke(channelOfOwner.get(connection.getClass()), connection);
    }

    private Object mqp(Object queue) {
        return invoke(queues.get(queue.getClass()).mqp, queue);
    }

    /** Whether the queue says stop ({@code writeQueueFull()}): 1 yes, 0 no, -1 unknown. */
    int stopState(Object queue) {
        Object signals = invoke(queues.get(queue.getClass()).signals, queue);
        if (!(signals instanceof java.util.concurrent.atomic.AtomicInteger)) {
            return -1;
        }
        return ((java.util.concurrent.atomic.AtomicInteger) signals).get() > 0 ? 1 : 0;
    }

    /** Messages in the queue, Vert.x's own exact count ({@code wip}); -1 when it cannot be read. */
    long messages(Object queue) {
        Object mqp = mqp(queue);
        if (mqp == null) {
            return -1;
        }
        Object wip = invoke(mqps.get(mqp.getClass()).wip, mqp);
        return wip instanceof Long ? (Long) wip : -1;
    }

    /** The queue's high-water mark, in messages; -1 when it cannot be read. */
    long highWaterMark(Object queue) {
        Object mqp = mqp(queue);
        if (mqp == null) {
            return -1;
        }
        Object hwm = invoke(mqps.get(mqp.getClass()).highWaterMark, mqp);
        return hwm instanceof Long ? (Long) hwm : -1;
    }

    /**
     * The bytes the queue's messages hold: the element set aside plus a walk of the queue (weakly consistent, safe
     * beside its producers and its consumer), at most {@code walkMax} elements, beyond which the bytes are
     * extrapolated from Vert.x's count. -1 when the queue cannot be read.
     */
    long pendingBytes(Object queue) {
        Object mqp = mqp(queue);
        if (mqp == null) {
            return -1;
        }
        MqpShape s = mqps.get(mqp.getClass());
        Object q = invoke(s.queue, mqp);
        if (!(q instanceof Queue)) {
            return -1;
        }
        long bytes = messageSize(invoke(s.overflow, mqp));
        long walked = 0;
        try {
            for (Object m : (Queue<?>) q) {
                bytes += messageSize(m);
                if (++walked >= walkMax) {
                    Object wip = invoke(s.wip, mqp);
                    if (wip instanceof Long && (Long) wip > walked) {
                        return bytes * (Long) wip / walked;
                    }
                    break;
                }
            }
        } catch (RuntimeException e) {
            // a queue that cannot be iterated: what was walked
        }
        return bytes;
    }

    /** Bytes a {@code MessageWrite} will write: the sizes of what it captured; 0 for headers and markers. */
    long messageSize(Object message) {
        if (message == null) {
            return 0;
        }
        long size = 0;
        for (MethodHandle h : captured.get(message.getClass())) {
            size += size(invoke(h, message));
        }
        return size;
    }

    /** The bytes of one Netty message (a buffer or a buffer holder); 0 for anything else. */
    long size(Object value) {
        if (value == null) {
            return 0;
        }
        MethodHandle h = sizes.get(value.getClass());
        if (h == null) {
            return 0;
        }
        try {
            return Math.max(0, (int) h.invoke(value));
        } catch (Throwable t) {
            return 0;
        }
    }

    // ---- Netty channels

    NettyChannels channels() {
        return channels;
    }

    private static Object invoke(MethodHandle h, Object target) {
        if (h == null || target == null) {
            return null;
        }
        try {
            return h.invoke(target);
        } catch (Throwable t) {
            return null;
        }
    }
}
