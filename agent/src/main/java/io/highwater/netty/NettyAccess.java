package io.highwater.netty;

import io.highwater.core.ConnectionShare;
import io.highwater.core.Layer;
import io.highwater.core.TransportProbe;
import io.highwater.instrument.Reference;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.net.SocketAddress;
import java.util.List;

/**
 * Reads Netty's own accounting from the agent's class loader, which cannot link against Netty: method handles onto
 * Netty's public interfaces, resolved once per copy of Netty in the JVM (each class loader, each relocated package
 * has its own), reached from any of that copy's classes. Used at collection time and on slow paths only; every
 * method answers a neutral value instead of throwing.
 */
final class NettyAccess implements TransportProbe, ConnectionShare {

    /**
     * What {@link Copy} resolves in the copy of Netty under {@code prefix} ("" for Netty itself), as declarations that
     * {@link NettyInstrumentation} checks against the copy's class files before any of its classes is changed: a copy
     * that lacks one is not instrumented (one line says which), so a {@link Copy} is never missing a handle later.
     */
    static List<Reference> references(String prefix) {
        String p = prefix + "io.netty.";
        String buffer = p + "channel.ChannelOutboundBuffer";
        String channel = p + "channel.Channel";
        String unsafe = p + "channel.Channel$Unsafe";
        String config = p + "channel.ChannelConfig";
        String context = p + "channel.ChannelHandlerContext";
        String estimator = p + "channel.MessageSizeEstimator";
        String estimatorHandle = p + "channel.MessageSizeEstimator$Handle";
        String loop = p + "channel.EventLoop";
        String socketAddress = SocketAddress.class.getName();
        return List.of(
                Reference.type(p + "channel.ChannelOutboundHandler"),
                Reference.method(buffer, "long", "totalPendingWriteBytes"),
                Reference.method(buffer, "boolean", "isWritable"),
                Reference.field(buffer, "channel", channel),
                Reference.method(channel, "boolean", "isOpen"),
                Reference.method(channel, socketAddress, "remoteAddress"),
                Reference.method(channel, socketAddress, "localAddress"),
                Reference.method(channel, config, "config"),
                Reference.method(config, "int", "getWriteBufferHighWaterMark"),
                Reference.method(config, estimator, "getMessageSizeEstimator"),
                Reference.method(estimator, estimatorHandle, "newHandle"),
                Reference.method(estimatorHandle, "int", "size", Object.class.getName()),
                Reference.method(channel, loop, "eventLoop"),
                Reference.method(p + "util.concurrent.EventExecutor", "boolean", "inEventLoop"),
                Reference.method(channel, unsafe, "unsafe"),
                Reference.method(unsafe, buffer, "outboundBuffer"),
                Reference.method(context, channel, "channel"),
                Reference.method(context, p + "channel.ChannelHandler", "handler"));
    }

    /** The handles of one Netty copy. */
    static final class Copy {
        /** The package prefix of the copy: "" for Netty itself, e.g. "io.grpc.netty.shaded." for a relocated one. */
        final String prefix;
        final Class<?> outboundHandler;
        final Class<?> channelType;
        final MethodHandle totalPending;
        final MethodHandle bufferWritable;
        final MethodHandle bufferChannel;
        final MethodHandle isOpen;
        final MethodHandle remoteAddress;
        final MethodHandle localAddress;
        final MethodHandle highWaterMark;
        final MethodHandle inEventLoop;
        final MethodHandle outboundBuffer;
        final MethodHandle contextChannel;
        final MethodHandle contextHandler;
        final MethodHandle sizeEstimator;
        final MethodHandle estimate;
        /** {@code Channel.close()}: the guard's action (on the channel's event loop, as Netty's close always runs). */
        final MethodHandle close;
        /** {@code Promise.tryFailure(Throwable)} and {@code ChannelPromise.isVoid()}: a refused write. */
        final MethodHandle tryFailure;
        final MethodHandle isVoid;

        Copy(String prefix, ClassLoader loader) throws ReflectiveOperationException {
            this.prefix = prefix;
            MethodHandles.Lookup pub = MethodHandles.publicLookup();
            Class<?> buffer = load(prefix + "io.netty.channel.ChannelOutboundBuffer", loader);
            Class<?> channel = load(prefix + "io.netty.channel.Channel", loader);
            Class<?> unsafe = load(prefix + "io.netty.channel.Channel$Unsafe", loader);
            Class<?> config = load(prefix + "io.netty.channel.ChannelConfig", loader);
            Class<?> context = load(prefix + "io.netty.channel.ChannelHandlerContext", loader);
            Class<?> handler = load(prefix + "io.netty.channel.ChannelHandler", loader);
            Class<?> estimator = load(prefix + "io.netty.channel.MessageSizeEstimator", loader);
            Class<?> estimatorHandle = load(prefix + "io.netty.channel.MessageSizeEstimator$Handle", loader);
            Class<?> loop = load(prefix + "io.netty.channel.EventLoop", loader);
            Class<?> executor = load(prefix + "io.netty.util.concurrent.EventExecutor", loader);
            outboundHandler = load(prefix + "io.netty.channel.ChannelOutboundHandler", loader);
            channelType = channel;
            totalPending = pub.findVirtual(buffer, "totalPendingWriteBytes", MethodType.methodType(long.class));
            bufferWritable = pub.findVirtual(buffer, "isWritable", MethodType.methodType(boolean.class));
            Field f = buffer.getDeclaredField("channel");
            // Netty lives in an unnamed module, which is open to the agent's unnamed module
            f.setAccessible(true);
            bufferChannel = MethodHandles.lookup().unreflectGetter(f);
            isOpen = pub.findVirtual(channel, "isOpen", MethodType.methodType(boolean.class));
            remoteAddress = pub.findVirtual(channel, "remoteAddress", MethodType.methodType(SocketAddress.class));
            localAddress = pub.findVirtual(channel, "localAddress", MethodType.methodType(SocketAddress.class));
            MethodHandle configOf = pub.findVirtual(channel, "config", MethodType.methodType(config));
            highWaterMark = MethodHandles.filterReturnValue(configOf,
                    pub.findVirtual(config, "getWriteBufferHighWaterMark", MethodType.methodType(int.class)));
            sizeEstimator = MethodHandles.filterReturnValue(MethodHandles.filterReturnValue(configOf,
                    pub.findVirtual(config, "getMessageSizeEstimator", MethodType.methodType(estimator))),
                    pub.findVirtual(estimator, "newHandle", MethodType.methodType(estimatorHandle)));
            estimate = pub.findVirtual(estimatorHandle, "size", MethodType.methodType(int.class, Object.class));
            inEventLoop = MethodHandles.filterReturnValue(
                    pub.findVirtual(channel, "eventLoop", MethodType.methodType(loop)),
                    pub.findVirtual(executor, "inEventLoop", MethodType.methodType(boolean.class))
                            .asType(MethodType.methodType(boolean.class, loop)));
            outboundBuffer = MethodHandles.filterReturnValue(
                    pub.findVirtual(channel, "unsafe", MethodType.methodType(unsafe)),
                    pub.findVirtual(unsafe, "outboundBuffer", MethodType.methodType(buffer)));
            contextChannel = pub.findVirtual(context, "channel", MethodType.methodType(channel));
            contextHandler = pub.findVirtual(context, "handler", MethodType.methodType(handler));
            close = pub.findVirtual(channel, "close",
                    MethodType.methodType(load(prefix + "io.netty.channel.ChannelFuture", loader)));
            tryFailure = pub.findVirtual(load(prefix + "io.netty.util.concurrent.Promise", loader), "tryFailure",
                    MethodType.methodType(boolean.class, Throwable.class));
            isVoid = pub.findVirtual(load(prefix + "io.netty.channel.ChannelPromise", loader), "isVoid",
                    MethodType.methodType(boolean.class));
        }

        private static Class<?> load(String name, ClassLoader loader) throws ClassNotFoundException {
            return Class.forName(name, false, loader);
        }
    }

    private final ClassValue<Copy> copies = new ClassValue<Copy>() {
        @Override
        protected Copy computeValue(Class<?> type) {
            String name = type.getName();
            int at = name.indexOf("io.netty.");
            String prefix = at < 0 ? "" : name.substring(0, at);
            try {
                return new Copy(prefix, type.getClassLoader());
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                io.highwater.base.Log.once("netty-access:" + prefix + type.getClassLoader(),
                        "netty" + (prefix.isEmpty() ? "" : " (" + prefix + "io.netty)")
                                + ": cannot read its state (" + e + "); its connections stay at 0");
                return null;
            }
        }
    };

    /** The copy of Netty that {@code nettyObject}'s class belongs to, or null when it cannot be read. */
    Copy copy(Object nettyObject) {
        return copies.get(nettyObject.getClass());
    }

    @Override
    public long pendingBytes(Object buffer) {
        Copy c = copy(buffer);
        if (c == null) {
            return 0;
        }
        try {
            return (long) c.totalPending.invoke(buffer);
        } catch (Throwable t) {
            return -1;
        }
    }

    @Override
    public boolean isOpen(Object buffer) {
        Copy c = copy(buffer);
        if (c == null) {
            return true;
        }
        try {
            return (boolean) c.isOpen.invoke(c.bufferChannel.invoke(buffer));
        } catch (Throwable t) {
            return false;
        }
    }

    /** Unwritable (above the high-water mark, or a user-defined stop) is Netty's stop state. */
    @Override
    public int stopState(Object buffer) {
        Copy c = copy(buffer);
        if (c == null) {
            return -1;
        }
        try {
            return (boolean) c.bufferWritable.invoke(buffer) ? 0 : 1;
        } catch (Throwable t) {
            return -1;
        }
    }

    @Override
    public SocketAddress peer(Object buffer) {
        Object channel = channelOfBuffer(buffer);
        return channel == null ? null : remoteAddress(channel);
    }

    @Override
    public SocketAddress local(Object buffer) {
        Object channel = channelOfBuffer(buffer);
        return channel == null ? null : localAddress(channel);
    }

    /** The channel: what other layers of a Netty-based stack (Reactor, HTTP/2 streams) name the connection by. */
    @Override
    public Object connection(Object buffer) {
        return channelOfBuffer(buffer);
    }

    @Override
    public Layer layer() {
        return NettyIntegration.LAYER;
    }

    /** What the outbound buffer of {@code connection}, a channel of any Netty copy, holds; 0 for anything else. */
    @Override
    public long bytesFor(Object connection) {
        if (!NettyAdapter.isNetty(connection.getClass().getName())) {
            return 0;
        }
        Copy c = copy(connection);
        if (c == null || !c.channelType.isInstance(connection)) {
            return 0;
        }
        Object buffer = invoke(c.outboundBuffer, connection);
        return buffer == null ? 0 : Math.max(0, pendingBytes(buffer));
    }

    /**
     * Closes the buffer's channel through {@code Channel.close()}: Netty fails and releases what is queued, fires
     * {@code channelInactive}, and the peer sees an ordinary close. From another thread the close is submitted to the
     * channel's event loop, as Netty always does.
     */
    @Override
    public boolean close(Object buffer) {
        Copy c = copy(buffer);
        Object channel = c == null ? null : invoke(c.bufferChannel, buffer);
        if (channel == null) {
            return false;
        }
        try {
            c.close.invoke(channel);
            return true;
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * A write the guard refused: its promise is completed as cancelled, with the guard's message, before Netty's
     * {@code write} looks at it; Netty then drops the write and releases its message, as it does for any write whose
     * promise was cancelled. The cause is a {@code CancellationException} (what makes Netty drop it) whose cause is
     * an {@code IOException} with the same message. A void promise cannot carry that: such a write is made. False
     * when nothing was done.
     */
    boolean refuseWrite(Object ctx, Object promise, String message) {
        Copy c = copy(ctx);
        if (c == null) {
            return false;
        }
        try {
            if ((boolean) c.isVoid.invoke(promise)) {
                return false;
            }
            java.util.concurrent.CancellationException refused = new java.util.concurrent.CancellationException(
                    message);
            refused.initCause(new java.io.IOException(message));
            return (boolean) c.tryFailure.invoke(promise, refused);
        } catch (Throwable t) {
            return false;
        }
    }

    /** The pipeline-write advice refuses a marked connection's writes ({@link NettyAdapter}). */
    @Override
    public boolean refusesOnWritePath() {
        return true;
    }

    /** Whether {@code channel} is open; true when it cannot be read (it stays watched). */
    boolean channelOpen(Object channel) {
        Copy c = copy(channel);
        if (c == null) {
            return true;
        }
        try {
            return (boolean) c.isOpen.invoke(channel);
        } catch (Throwable t) {
            return true;
        }
    }

    /** The buffer's channel, or null when it cannot be read. */
    Object channelOfBuffer(Object buffer) {
        Copy c = copy(buffer);
        return c == null ? null : invoke(c.bufferChannel, buffer);
    }

    /** The context's channel, or null. */
    Object channelOfContext(Object ctx) {
        Copy c = copy(ctx);
        return c == null ? null : invoke(c.contextChannel, ctx);
    }

    /** The context's handler, or null. */
    Object handler(Object ctx) {
        Copy c = copy(ctx);
        return c == null ? null : invoke(c.contextHandler, ctx);
    }

    /**
     * Whether {@code handler}, the handler of {@code ctx}, takes part in outbound operations (it may pass a write on,
     * or make others). Asked of the context's copy: the handler's class may be the application's.
     */
    boolean isOutboundHandler(Object ctx, Object handler) {
        Copy c = copy(ctx);
        return c == null || c.outboundHandler.isInstance(handler);
    }

    /** The channel's outbound buffer; null once the channel is closed, or when it cannot be read. */
    Object outboundBuffer(Object channel) {
        Copy c = copy(channel);
        return c == null ? null : invoke(c.outboundBuffer, channel);
    }

    /** What the channel's own size estimator says {@code msg} adds to its pending bytes; 0 when it cannot tell. */
    long size(Object channel, Object msg) {
        Copy c = copy(channel);
        if (c == null || msg == null) {
            return 0;
        }
        try {
            return Math.max(0, (int) c.estimate.invoke(c.sizeEstimator.invoke(channel), msg));
        } catch (Throwable t) {
            return 0;
        }
    }

    /** The channel's high-water mark; {@code -1} when it cannot be read. */
    long highWaterMark(Object channel) {
        Copy c = copy(channel);
        if (c == null) {
            return -1;
        }
        try {
            return (int) c.highWaterMark.invoke(channel);
        } catch (Throwable t) {
            return -1;
        }
    }

    /** Whether this thread is the channel's event loop; true when that cannot be told. */
    boolean inEventLoop(Object channel) {
        Copy c = copy(channel);
        if (c == null) {
            return true;
        }
        try {
            return (boolean) c.inEventLoop.invoke(channel);
        } catch (Throwable t) {
            return true;
        }
    }

    SocketAddress remoteAddress(Object channel) {
        Copy c = copy(channel);
        return c == null ? null : (SocketAddress) invoke(c.remoteAddress, channel);
    }

    SocketAddress localAddress(Object channel) {
        Copy c = copy(channel);
        return c == null ? null : (SocketAddress) invoke(c.localAddress, channel);
    }

    private static Object invoke(MethodHandle h, Object target) {
        try {
            return h.invoke(target);
        } catch (Throwable t) {
            return null;
        }
    }
}
