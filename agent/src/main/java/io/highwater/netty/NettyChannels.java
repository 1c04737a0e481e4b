package io.highwater.netty;

import io.highwater.base.Log;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.SocketAddress;

/**
 * What the layers above Netty (Vert.x, Reactor) read of a connection's Netty {@code Channel}, any copy of Netty:
 * open, writable, its addresses, its outbound buffer's pending bytes and its high-water mark. Public interfaces only,
 * resolved once per channel class. Nothing here throws; what cannot be read answers a neutral value.
 */
public final class NettyChannels {

    private static final String CHANNEL = "io.netty.channel.Channel";

    private static final class Shape {
        final MethodHandle isOpen;
        final MethodHandle isWritable;
        final MethodHandle remote;
        final MethodHandle local;
        final MethodHandle pending;
        final MethodHandle highWaterMark;

        Shape(Class<?> channel) throws ReflectiveOperationException {
            ClassLoader loader = channel.getClassLoader();
            String prefix = channel.getName().substring(0, channel.getName().length() - CHANNEL.length());
            Class<?> unsafe = Class.forName(prefix + "io.netty.channel.Channel$Unsafe", false, loader);
            Class<?> buffer = Class.forName(prefix + "io.netty.channel.ChannelOutboundBuffer", false, loader);
            Class<?> config = Class.forName(prefix + "io.netty.channel.ChannelConfig", false, loader);
            MethodHandles.Lookup pub = MethodHandles.publicLookup();
            isOpen = pub.findVirtual(channel, "isOpen", MethodType.methodType(boolean.class));
            isWritable = pub.findVirtual(channel, "isWritable", MethodType.methodType(boolean.class));
            remote = pub.findVirtual(channel, "remoteAddress", MethodType.methodType(SocketAddress.class));
            local = pub.findVirtual(channel, "localAddress", MethodType.methodType(SocketAddress.class));
            MethodHandle buf = MethodHandles.filterReturnValue(
                    pub.findVirtual(channel, "unsafe", MethodType.methodType(unsafe)),
                    pub.findVirtual(unsafe, "outboundBuffer", MethodType.methodType(buffer)));
            pending = MethodHandles.filterReturnValue(buf,
                    pub.findVirtual(buffer, "totalPendingWriteBytes", MethodType.methodType(long.class)));
            highWaterMark = MethodHandles.filterReturnValue(
                    pub.findVirtual(channel, "config", MethodType.methodType(config)),
                    pub.findVirtual(config, "getWriteBufferHighWaterMark", MethodType.methodType(int.class)));
        }
    }

    private final ClassValue<Shape> shapes = new ClassValue<Shape>() {
        @Override
        protected Shape computeValue(Class<?> type) {
            Class<?> channel = channelInterface(type);
            if (channel == null) {
                return null;
            }
            try {
                return new Shape(channel);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                Log.once("netty-channel:" + type.getName(), "cannot read the channel " + type.getName()
                        + " (" + e + "); its connections show no addresses");
                return null;
            }
        }
    };

    /** The {@code Channel} interface (of any copy of Netty) that {@code type} implements, or null. */
    public static Class<?> channelInterface(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                if (i.getName().endsWith(CHANNEL) && (i.getName().length() == CHANNEL.length()
                        || i.getName().charAt(i.getName().length() - CHANNEL.length() - 1) == '.')) {
                    return i;
                }
                Class<?> up = channelInterface(i);
                if (up != null) {
                    return up;
                }
            }
        }
        return null;
    }

    /** Whether {@code o} is a Netty channel (of any copy). */
    public boolean isChannel(Object o) {
        return o != null && shapes.get(o.getClass()) != null;
    }

    public boolean isOpen(Object channel) {
        Shape s = shape(channel);
        if (s == null) {
            return channel != null;
        }
        try {
            return (boolean) s.isOpen.invoke(channel);
        } catch (Throwable t) {
            return false;
        }
    }

    /** 1 unwritable, 0 writable, -1 unknown. */
    public int unwritable(Object channel) {
        Shape s = shape(channel);
        if (s == null) {
            return -1;
        }
        try {
            return (boolean) s.isWritable.invoke(channel) ? 0 : 1;
        } catch (Throwable t) {
            return -1;
        }
    }

    /** What the channel's outbound buffer holds; -1 when it cannot be read (closed). */
    public long pendingBytes(Object channel) {
        Shape s = shape(channel);
        if (s == null) {
            return -1;
        }
        try {
            return (long) s.pending.invoke(channel);
        } catch (Throwable t) {
            return -1;
        }
    }

    public long highWaterMark(Object channel) {
        Shape s = shape(channel);
        if (s == null) {
            return -1;
        }
        try {
            return (int) s.highWaterMark.invoke(channel);
        } catch (Throwable t) {
            return -1;
        }
    }

    public SocketAddress remote(Object channel) {
        Shape s = shape(channel);
        return s == null ? null : (SocketAddress) invoke(s.remote, channel);
    }

    public SocketAddress local(Object channel) {
        Shape s = shape(channel);
        return s == null ? null : (SocketAddress) invoke(s.local, channel);
    }

    private Shape shape(Object channel) {
        return channel == null ? null : shapes.get(channel.getClass());
    }

    private static Object invoke(MethodHandle h, Object target) {
        try {
            return h.invoke(target);
        } catch (Throwable t) {
            return null;
        }
    }
}
