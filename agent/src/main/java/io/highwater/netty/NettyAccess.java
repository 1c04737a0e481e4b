package io.highwater.netty;

import io.highwater.core.TransportProbe;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.net.SocketAddress;

/**
 * Reads Netty's own accounting from the agent's class loader, which cannot link against Netty: method handles
 * resolved once per {@code ChannelOutboundBuffer} class (there is one per Netty copy in the JVM).
 * Used at collection time and on slow paths only.
 */
final class NettyAccess implements TransportProbe {

    private static final class Handles {
        final MethodHandle totalPending;
        final MethodHandle channelField;
        final MethodHandle isOpen;
        final MethodHandle remoteAddress;
        final MethodHandle localAddress;
        final MethodHandle highWaterMark;
        final MethodHandle inEventLoop;

        Handles(Class<?> bufferClass) throws ReflectiveOperationException {
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            totalPending = lookup.findVirtual(bufferClass, "totalPendingWriteBytes", MethodType.methodType(long.class));
            Field f = bufferClass.getDeclaredField("channel");
            // Netty lives in an unnamed module, which is open to the agent's unnamed module
            f.setAccessible(true);
            channelField = MethodHandles.lookup().unreflectGetter(f);
            Class<?> channelType = Class.forName("io.netty.channel.Channel", false, bufferClass.getClassLoader());
            isOpen = lookup.findVirtual(channelType, "isOpen", MethodType.methodType(boolean.class));
            remoteAddress = lookup.findVirtual(channelType, "remoteAddress", MethodType.methodType(SocketAddress.class));
            localAddress = lookup.findVirtual(channelType, "localAddress", MethodType.methodType(SocketAddress.class));
            ClassLoader loader = bufferClass.getClassLoader();
            Class<?> configType = Class.forName("io.netty.channel.ChannelConfig", false, loader);
            highWaterMark = MethodHandles.filterReturnValue(
                    lookup.findVirtual(channelType, "config", MethodType.methodType(configType)),
                    lookup.findVirtual(configType, "getWriteBufferHighWaterMark", MethodType.methodType(int.class)));
            Class<?> loopType = Class.forName("io.netty.channel.EventLoop", false, loader);
            Class<?> executorType = Class.forName("io.netty.util.concurrent.EventExecutor", false, loader);
            inEventLoop = MethodHandles.filterReturnValue(
                    lookup.findVirtual(channelType, "eventLoop", MethodType.methodType(loopType)),
                    lookup.findVirtual(executorType, "inEventLoop", MethodType.methodType(boolean.class))
                            .asType(MethodType.methodType(boolean.class, loopType)));
        }
    }

    private final ClassValue<Handles> handles = new ClassValue<Handles>() {
        @Override
        protected Handles computeValue(Class<?> type) {
            try {
                return new Handles(type);
            } catch (ReflectiveOperationException | RuntimeException e) {
                io.highwater.agent.Log.once("netty-access:" + type.getName(),
                        "netty: cannot read pending bytes of " + type.getName() + " (" + e + "); its connections stay at 0");
                return null;
            }
        }
    };

    @Override
    public long pendingBytes(Object buffer) {
        Handles h = handles.get(buffer.getClass());
        if (h == null) {
            return 0;
        }
        try {
            return (long) h.totalPending.invoke(buffer);
        } catch (Throwable t) {
            return -1;
        }
    }

    @Override
    public boolean isOpen(Object buffer) {
        Handles h = handles.get(buffer.getClass());
        if (h == null) {
            return true;
        }
        try {
            return (boolean) h.isOpen.invoke(h.channelField.invoke(buffer));
        } catch (Throwable t) {
            return false;
        }
    }

    /** The buffer's channel, or null when it cannot be read. */
    Object channel(Object buffer) {
        Handles h = handles.get(buffer.getClass());
        if (h == null) {
            return null;
        }
        try {
            return h.channelField.invoke(buffer);
        } catch (Throwable t) {
            return null;
        }
    }

    /** The channel's high-water mark; {@code -1} when it cannot be read. */
    long highWaterMark(Object buffer, Object channel) {
        Handles h = handles.get(buffer.getClass());
        if (h == null) {
            return -1;
        }
        try {
            return (int) h.highWaterMark.invoke(channel);
        } catch (Throwable t) {
            return -1;
        }
    }

    /** Whether this thread is the channel's event loop; true when that cannot be told (no submit is judged then). */
    boolean inEventLoop(Object buffer, Object channel) {
        Handles h = handles.get(buffer.getClass());
        if (h == null) {
            return true;
        }
        try {
            return (boolean) h.inEventLoop.invoke(channel);
        } catch (Throwable t) {
            return true;
        }
    }

    SocketAddress remoteAddress(Object buffer, Object channel) {
        return address(buffer, channel, true);
    }

    SocketAddress localAddress(Object buffer, Object channel) {
        return address(buffer, channel, false);
    }

    private SocketAddress address(Object buffer, Object channel, boolean remote) {
        Handles h = handles.get(buffer.getClass());
        if (h == null) {
            return null;
        }
        try {
            return (SocketAddress) (remote ? h.remoteAddress : h.localAddress).invoke(channel);
        } catch (Throwable t) {
            return null;
        }
    }
}
