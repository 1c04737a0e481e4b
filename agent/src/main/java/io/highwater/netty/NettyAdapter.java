package io.highwater.netty;

import io.highwater.netty.bootstrap.NettyHooks;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Frameworks;
import io.highwater.core.Monitor;
import io.highwater.core.StackInspector;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;
import io.highwater.core.TransportProbe;
import io.highwater.core.WriteGuard;

import java.util.function.Predicate;

/**
 * Translates what the Netty advice sees into the neutral model. Every method runs on a slow path only: a write
 * while its channel is unwritable, a drain while unwritable, writability transitions, close.
 *
 * <p>Stop signal: the channel turns unwritable (pending bytes above the high-water mark). Go signal: writable
 * again (below the low-water mark). Progress: bytes leaving the outbound buffer for the socket.
 *
 * <p>One judgement per application write: a write is judged where it enters the pipeline, against the channel's
 * state at that moment, and only if it is the application's. Writes that a pipeline handler makes on the context
 * of its own (a codec's chunk framing, TLS records cut at flush, compressed blocks, HTTP/2 frames, another agent's
 * tracing handler passing the write on) are that handler's rendering of a write judged further out, or the
 * handler's own traffic, never the application's.
 */
public final class NettyAdapter implements NettyHooks {

    private static final String EMBEDDED_CHANNEL = "io.netty.channel.embedded.EmbeddedChannel";
    private static final String TAIL = "io.netty.channel.DefaultChannelPipeline$TailContext";
    /** Netty's accounting overhead per queued message (its own setting, default 96). */
    private static final long ENTRY_OVERHEAD = Math.max(0, Integer.getInteger(
            "io.netty.transport.outboundBufferEntrySizeOverhead", 96));

    /** Whose write a write on a handler's context is. */
    enum Origin {
        /** An inbound-only handler's context, or the tail: the application writing. */
        APPLICATION,
        /** Netty's own handlers and other agents' handlers: they pass writes on, or make their own traffic. */
        HANDLER,
        /** A handler of the application's (or another framework's) that takes part in outbound operations: it may
         * write (in {@code channelRead}, say) or pass a write on (in its {@code write}); the stack tells. */
        LOOK
    }

    /**
     * Channels without an outbound buffer of their own whose writes another layer judges: HTTP/2 stream channels,
     * whose backlog sits in the connection's flow controller (the {@code http2} integration). Null when none.
     */
    public interface BufferlessWrites {
        /** {@code msg} written through {@code ctx} into {@code channel}, which has no outbound buffer, while it is
         * unwritable (see {@link NettyHooks#writeWhileUnwritable}). */
        void writeWhileUnwritable(NettyAdapter netty, Object ctx, Object channel, Object msg);
    }

    private static volatile BufferlessWrites bufferless;

    /** Lets {@code writes} judge writes into channels without an outbound buffer; null: nobody. */
    public static void bufferless(BufferlessWrites writes) {
        bufferless = writes;
    }

    private final Monitor monitor;
    private final ConnectionRegistry registry;
    private final Frameworks frameworks;
    private final NettyAccess access = new NettyAccess();
    private final Tracker tracker;
    /** For the gate's timer: one instance for every channel it holds. */
    private final Predicate<Object> channelOpen = access::channelOpen;

    public NettyAdapter(Monitor monitor) {
        this.monitor = monitor;
        this.registry = monitor.registry();
        this.tracker = monitor.tracker(NettyIntegration.LAYER, access);
        this.frameworks = monitor.inspector().frameworks();
    }

    NettyAccess access() {
        return access;
    }

    /**
     * After an attach to a running JVM: asks every Netty event loop for its channels, and tracks those already
     * beyond their high-water mark. Returns how many loops were asked; what they find arrives as they run the task.
     */
    public int discoverAtAttach() {
        return new NettyDiscovery(this).start();
    }

    @Override
    public void writeWhileUnwritable(Object ctx, Object msg) {
        judge(ctx, msg);
    }

    /**
     * As {@link #writeWhileUnwritable(Object, Object)}; when the guard refuses the application's write (it would take
     * the connection beyond {@code highwater.guard.connection.max}, or the guard marked the connection for
     * {@code fail}), the write's promise is completed as cancelled with the guard's message, and Netty drops the
     * write and releases its message (see {@link NettyAccess#refuseWrite}).
     */
    @Override
    public void writeWhileUnwritable(Object ctx, Object msg, Object promise) {
        TrackedConnection refused = judge(ctx, msg);
        if (refused == null || promise == null) {
            return;
        }
        WriteGuard guard = monitor.guard();
        if (guard != null) {
            access.refuseWrite(ctx, promise, guard.refusal(refused));
        }
    }

    /**
     * Judges one write: an ignored write when beyond the tolerance and the application's. Returns the connection
     * when the guard refuses this application write, null otherwise.
     */
    private TrackedConnection judge(Object ctx, Object msg) {
        Object channel = access.channelOfContext(ctx);
        if (channel == null || isEmbedded(channel)) {
            return null;
        }
        Object buffer = access.outboundBuffer(channel);
        if (buffer == null) {
            // closed: the write fails, nothing piles up; or a channel without a buffer of its own (an HTTP/2 stream)
            BufferlessWrites other = bufferless;
            if (other != null) {
                other.writeWhileUnwritable(this, ctx, channel, msg);
            }
            return null;
        }
        if (access.stopState(buffer) == 0) {
            // another channel with the same filter slot, or this one turned writable since
            return null;
        }
        long pendingBefore = access.pendingBytes(buffer);
        // registering here, not only at the stop signal, also picks up a channel whose stop signal the agent missed
        TrackedConnection c = track(buffer, false, pendingBefore);
        if (c != null) {
            if (!c.isWaiting()) {
                monitor.stop(c, pendingBefore);
            }
            c.observePending(pendingBefore);
        }
        long size = access.size(channel, msg);
        int verdict = WriteGuard.PASS;
        WriteGuard guard = monitor.guard();
        if (guard != null && c != null && size > 0) {
            // the write that would take the connection beyond the guard's limit is stopped here, not a tick later
            verdict = guard.beforeWrite(c, pendingBefore, size);
        }
        // an empty message (the end of an HTTP response, say) adds nothing to the pile: not an ignored write
        boolean beyond = size > 0 && monitor.beyondTolerance(pendingBefore, access.highWaterMark(channel));
        if (!beyond && verdict == WriteGuard.PASS) {
            return null;
        }
        StackInspector.Result walked = null;
        switch (origin(ctx)) {
            case HANDLER:
                // a handler's rendering of a write judged further out, or its own traffic: never refused either
                return null;
            case LOOK:
                walked = monitor.inspector().inspectPipelineWrite();
                if (walked.forwarded) {
                    return null;
                }
                break;
            default:
                break;
        }
        if (beyond) {
            if (c != null) {
                monitor.captureTrace(c);
            }
            monitor.ignoredWrite(c, NettyIntegration.CHANNEL_UNWRITABLE, size, walked);
        }
        return verdict == WriteGuard.PASS ? null : c;
    }

    /**
     * Whose write a write through {@code ctx} is, for another layer's judgement: a result that is {@code forwarded}
     * when a handler's (passing a write on, or its own traffic), else the stack walk made to tell (null: none was
     * needed, the caller's judgement walks for the call site).
     */
    public StackInspector.Result whoseWrite(Object ctx) {
        switch (origin(ctx)) {
            case HANDLER:
                return StackInspector.Result.FORWARDED;
            case LOOK:
                return monitor.inspector().inspectPipelineWrite();
            default:
                return null;
        }
    }

    /** What the channel's size estimator says {@code msg} adds to its pending bytes; 0 when it cannot tell. */
    public long messageSize(Object channel, Object msg) {
        return access.size(channel, msg);
    }

    /** The channel's high-water mark; -1 when it cannot be read. */
    public long highWaterMark(Object channel) {
        return access.highWaterMark(channel);
    }

    public java.net.SocketAddress remoteAddress(Object channel) {
        return access.remoteAddress(channel);
    }

    public java.net.SocketAddress localAddress(Object channel) {
        return access.localAddress(channel);
    }

    /** Whose write a write through {@code ctx} is, by the context's handler. */
    Origin origin(Object ctx) {
        if (ctx.getClass().getName().endsWith(TAIL)) {
            return Origin.APPLICATION;
        }
        Object handler = access.handler(ctx);
        if (handler == null) {
            return Origin.HANDLER;
        }
        String name = handler.getClass().getName();
        // a claimed handler forwards what its framework's layer judged where the application called it
        if (isNetty(name) || frameworks.isAgent(name) || frameworks.isClaimedHandler(name)) {
            return Origin.HANDLER;
        }
        return access.isOutboundHandler(ctx, handler) ? Origin.LOOK : Origin.APPLICATION;
    }

    @Override
    public void writabilityChanged(Object buffer, Object channel, boolean writable, long pending) {
        // embedded channels too: the gate only opens the advice's slow path, which skips them (and the JIT's view
        // of that path is tested on one, SlowPathInliningTest)
        UnwritableGate.GATE.changed(channel, access, buffer, channelOpen);
        if (isEmbedded(channel)) {
            return;
        }
        if (writable) {
            TrackedConnection c = registry.get(buffer);
            if (c != null) {
                monitor.go(c);
            }
        } else {
            TrackedConnection c = track(buffer, true, pending);
            if (c != null) {
                monitor.stop(c, pending);
                monitor.captureTrace(c);
            }
        }
    }

    @Override
    public void drained(Object buffer, long bytes) {
        TrackedConnection c = registry.get(buffer);
        if (c == null) {
            // unwritable and draining, yet untracked: it was under pressure before the agent attached (or its stop
            // signal was missed); from here on it is watched, whether or not anything is written to it again
            Object channel = access.channelOfBuffer(buffer);
            if (channel == null || isEmbedded(channel)) {
                return;
            }
            UnwritableGate.GATE.changed(channel, access, buffer, channelOpen);
            long pending = access.pendingBytes(buffer);
            c = track(buffer, true, pending);
            if (c != null) {
                monitor.stop(c, pending);
            }
            return;
        }
        monitor.progress(c);
    }

    @Override
    public void failing(Object buffer, long pending) {
        if (!registry.isEmpty()) {
            TrackedConnection c = registry.get(buffer);
            if (c != null) {
                c.pendingAtFailure(pending);
            }
        }
    }

    @Override
    public void closed(Object buffer, long pending) {
        Object channel = access.channelOfBuffer(buffer);
        if (channel != null) {
            UnwritableGate.GATE.closed(channel);
        }
        if (!registry.isEmpty()) {
            TrackedConnection c = registry.get(buffer);
            if (c != null) {
                // a closing channel first fails its queued messages: what they held was read just before
                long left = Math.max(pending, c.pendingAtFailure());
                // an empty message still counts Netty's per-entry overhead: a response that completed and closed
                // from its last write's listener leaves exactly that behind, and no byte the peer missed
                monitor.closed(c, left > ENTRY_OVERHEAD ? left : 0);
            }
        }
    }

    /**
     * A channel found holding bytes beyond its high-water mark when the agent attached (see {@link NettyDiscovery}):
     * tracked from now, its wait counted from now, its episode marked as begun before.
     */
    void foundAtAttach(Object buffer, Object channel) {
        if (isEmbedded(channel) || access.stopState(buffer) != 1) {
            return;
        }
        UnwritableGate.GATE.changed(channel, access, buffer, channelOpen);
        if (registry.get(buffer) != null) {
            return;
        }
        long pending = access.pendingBytes(buffer);
        TrackedConnection c = track(buffer, true, pending);
        if (c != null) {
            monitor.foundAtAttach(c, pending);
        }
    }

    /**
     * An HTTP/2 stream channel's writability flipped (the {@code http2} integration): while it is unwritable, the
     * pipeline-write advice asks channels again (see {@link UnwritableGate}). Answers the stream's
     * {@link TransportProbe#stopState} as {@code probe} read it for the gate.
     */
    public static int streamWritabilityChanged(Object child, TransportProbe probe, Predicate<Object> open) {
        return UnwritableGate.GATE.changed(child, probe, child, open);
    }

    /** On the agent's timer. */
    void tick() {
        UnwritableGate.GATE.tick();
    }

    /** The agent is going away. */
    void stop() {
        UnwritableGate.GATE.clear();
    }

    private TrackedConnection track(Object buffer, boolean atStopSignal, long pending) {
        return tracker.track(buffer, atStopSignal, pending);
    }

    /** A class of Netty itself, of any copy (relocated ones keep {@code io.netty.} after their own prefix). */
    static boolean isNetty(String className) {
        return className.startsWith("io.netty.") || className.contains(".io.netty.");
    }

    private static boolean isEmbedded(Object channel) {
        return channel.getClass().getName().endsWith(EMBEDDED_CHANNEL);
    }
}
