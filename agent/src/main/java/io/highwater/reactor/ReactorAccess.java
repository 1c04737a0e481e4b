package io.highwater.reactor;

import io.highwater.base.Reflect;
import io.highwater.netty.NettyChannels;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.Queue;

/**
 * Reads Reactor's queues and follows a subscription chain to the connection it serves, through handles resolved once
 * per class: the agent does not link against Reactor. Nothing here throws.
 */
final class ReactorAccess {

    /** How far down a subscriber chain to look for the connection. */
    private static final int MAX_HOPS = 64;
    /** Elements that are not bytes: counted as items. */
    static final long NOT_BYTES = -1;

    private final NettyChannels channels = new NettyChannels();

    NettyChannels channels() {
        return channels;
    }

    private final ClassValue<MethodHandle> queues = new ClassValue<MethodHandle>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            return Reflect.getter(type, "queue");
        }
    };

    /** A multicast processor's subscribers ({@code subscribers}, an array), or null for other owners. */
    private final ClassValue<MethodHandle> subscribers = new ClassValue<MethodHandle>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            return Reflect.getter(type, "subscribers");
        }
    };

    /** {@code Scannable.scanUnsafe(Attr.ACTUAL)} for a class that is {@code Scannable}, else null. */
    private final ClassValue<MethodHandle> actual = new ClassValue<MethodHandle>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            try {
                Class<?> scannable = Class.forName("reactor.core.Scannable", false, type.getClassLoader());
                if (!scannable.isAssignableFrom(type)) {
                    return null;
                }
                Class<?> attr = Class.forName("reactor.core.Scannable$Attr", false, type.getClassLoader());
                Object key = attr.getField("ACTUAL").get(null);
                MethodHandle scan = MethodHandles.publicLookup().findVirtual(scannable, "scanUnsafe",
                        MethodType.methodType(Object.class, attr));
                return MethodHandles.insertArguments(scan, 1, key).asType(MethodType.methodType(Object.class, Object.class));
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                return null;
            }
        }
    };

    /**
     * The subscriber a node that is not {@code Scannable} hands elements to: Spring's {@code ChannelSendOperator}
     * write barrier keeps it in {@code writeSubscriber}.
     */
    private final ClassValue<MethodHandle> writeSubscriber = new ClassValue<MethodHandle>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            return Reflect.getter(type, "writeSubscriber");
        }
    };

    /** A public {@code channel()} returning a Netty {@code Channel}: Reactor Netty's send and channel operations. */
    private final ClassValue<MethodHandle> channelOf = new ClassValue<MethodHandle>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            try {
                Method m = type.getMethod("channel");
                Class<?> r = m.getReturnType();
                if (NettyChannels.channelInterface(r) == null && !r.getName().endsWith("io.netty.channel.Channel")) {
                    return null;
                }
                m.setAccessible(true);
                return MethodHandles.lookup().unreflect(m).asType(MethodType.methodType(Object.class, Object.class));
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    };

    /**
     * Reactor's own {@code Queues.capacity(Queue)} as seen from an owner's class: {@code Integer.MAX_VALUE} for its
     * unbounded queues, the capacity of a bounded one, negative when unsure. Null when it cannot be found.
     */
    private final ClassValue<MethodHandle> capacities = new ClassValue<MethodHandle>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            try {
                Class<?> queues = Class.forName("reactor.util.concurrent.Queues", false, type.getClassLoader());
                return MethodHandles.publicLookup().findStatic(queues, "capacity",
                        MethodType.methodType(int.class, Queue.class));
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                return null;
            }
        }
    };

    /**
     * Whether {@code owner}'s {@code queue} is bounded by Reactor's own measure ({@code onBackpressureBuffer(n)}, a
     * sink given a bounded queue): such a queue never grows without end, and emissions into it are never ignored
     * writes. Unsure (a queue Reactor does not know) counts as unbounded.
     */
    boolean bounded(Object owner, Queue<?> queue) {
        MethodHandle h = capacities.get(owner.getClass());
        if (h == null || queue == null) {
            return false;
        }
        try {
            int capacity = (int) h.invoke(queue);
            return capacity >= 0 && capacity < Integer.MAX_VALUE;
        } catch (Throwable t) {
            return false;
        }
    }

    /** Sizes of the element types that are bytes; null handle: not bytes. */
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
                Class<?> data = supertype(type, "org.springframework.core.io.buffer.DataBuffer");
                if (data != null) {
                    return pub.findVirtual(data, "readableByteCount", MethodType.methodType(int.class))
                            .asType(MethodType.methodType(int.class, Object.class));
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                // not bytes
            }
            return null;
        }
    };

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

    /**
     * The bytes one element holds: characters of a {@code CharSequence} (equal to its UTF-8 bytes for ASCII), the
     * length of a {@code byte[]}, what remains of a {@code ByteBuffer}, the readable bytes of a Netty {@code ByteBuf}
     * (or a holder's) or a Spring {@code DataBuffer}; {@link #NOT_BYTES} for anything else (an item).
     */
    long size(Object element) {
        if (element instanceof CharSequence) {
            return ((CharSequence) element).length();
        }
        if (element instanceof byte[]) {
            return ((byte[]) element).length;
        }
        if (element instanceof ByteBuffer) {
            return ((ByteBuffer) element).remaining();
        }
        if (element == null) {
            return NOT_BYTES;
        }
        MethodHandle h = sizes.get(element.getClass());
        if (h == null) {
            return NOT_BYTES;
        }
        try {
            return Math.max(0, (int) h.invoke(element));
        } catch (Throwable t) {
            return NOT_BYTES;
        }
    }

    /** The owner's queue, or null. */
    Queue<?> queue(Object owner) {
        Object q = invoke(queues.get(owner.getClass()), owner);
        return q instanceof Queue ? (Queue<?>) q : null;
    }

    /** Elements in the owner's queue (O(1) for Reactor's queues); 0 when it cannot be read. */
    long elements(Object owner) {
        Queue<?> q = queue(owner);
        if (q == null) {
            return 0;
        }
        try {
            return q.size();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /**
     * The Netty channel the owner's elements end up in, found by following the subscriber chain downstream (each
     * operator's {@code Scannable} {@code ACTUAL}; a multicast processor's first subscriber) to Reactor Netty's
     * send; null when the chain serves no Netty connection (WebFlux on a servlet container, an in-process consumer).
     */
    Object connection(Object owner) {
        Object node = owner;
        for (int i = 0; i < MAX_HOPS && node != null; i++) {
            Object channel = invoke(channelOf.get(node.getClass()), node);
            if (channel != null && channels.isChannel(channel)) {
                return channel;
            }
            node = downstream(node);
        }
        return null;
    }

    private Object downstream(Object node) {
        Object subs = invoke(subscribers.get(node.getClass()), node);
        if (subs instanceof Object[]) {
            Object[] a = (Object[]) subs;
            return a.length == 0 ? null : a[0];
        }
        MethodHandle scan = actual.get(node.getClass());
        if (scan != null) {
            return invoke(scan, node);
        }
        return invoke(writeSubscriber.get(node.getClass()), node);
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
