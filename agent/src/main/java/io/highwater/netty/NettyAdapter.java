package io.highwater.netty;

import io.highwater.bootstrap.NettyHooks;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Layer;
import io.highwater.core.Monitor;
import io.highwater.core.Signal;
import io.highwater.core.TrackedConnection;

/**
 * Translates what the Netty advice sees into the neutral model. Every method runs on a slow path only:
 * while a channel is unwritable, on writability transitions, on close.
 *
 * <p>Stop signal: the channel turns unwritable (pending bytes above the high-water mark). Go signal: writable
 * again (below the low-water mark). Progress: bytes leaving the outbound buffer for the socket.
 */
public final class NettyAdapter implements NettyHooks {

    private static final String EMBEDDED_CHANNEL = "io.netty.channel.embedded.EmbeddedChannel";
    /** Netty's accounting overhead per queued message (its own setting, default 96). */
    private static final long ENTRY_OVERHEAD = Math.max(0, Integer.getInteger(
            "io.netty.transport.outboundBufferEntrySizeOverhead", 96));

    private final Monitor monitor;
    private final ConnectionRegistry registry;
    private final NettyAccess access = new NettyAccess();

    public NettyAdapter(Monitor monitor) {
        this.monitor = monitor;
        this.registry = monitor.registry();
    }

    @Override
    public void writeWhileUnwritable(Object buffer, int size) {
        Object channel = access.channel(buffer);
        if (channel == null || isEmbedded(channel)) {
            return;
        }
        long pendingBefore = access.pendingBytes(buffer);
        // registering here, not only at the stop signal, picks up connections that were already unwritable
        // when the agent attached; their wait starts now
        TrackedConnection c = track(buffer, channel, false, pendingBefore);
        if (c != null) {
            if (!c.isWaiting()) {
                monitor.stop(c, pendingBefore);
            }
            c.observePending(pendingBefore + size);
            monitor.captureTrace(c);
        }
        // an empty message (the end of an HTTP response, say) adds nothing to the pile: not an ignored write
        if (size > 0 && monitor.beyondTolerance(pendingBefore, access.highWaterMark(buffer, channel))) {
            monitor.ignoredWrite(c, Signal.CHANNEL_UNWRITABLE, size);
        }
    }

    @Override
    public void submitWhileUnwritable(Object buffer) {
        Object channel = access.channel(buffer);
        if (channel == null || isEmbedded(channel) || access.inEventLoop(buffer, channel)) {
            return;
        }
        long pendingBefore = access.pendingBytes(buffer);
        if (!monitor.beyondTolerance(pendingBefore, access.highWaterMark(buffer, channel))) {
            return;
        }
        TrackedConnection c = track(buffer, channel, false, pendingBefore);
        if (c != null) {
            monitor.ignoredSubmit(c, Signal.CHANNEL_UNWRITABLE);
            monitor.captureTrace(c);
        }
    }

    @Override
    public void writabilityChanged(Object buffer, Object channel, boolean writable, long pending) {
        if (isEmbedded(channel)) {
            return;
        }
        if (writable) {
            TrackedConnection c = registry.get(buffer);
            if (c != null) {
                monitor.go(c);
            }
        } else {
            TrackedConnection c = track(buffer, channel, true, pending);
            if (c != null) {
                monitor.stop(c, pending);
                monitor.captureTrace(c);
            }
        }
    }

    @Override
    public void drained(Object buffer, long bytes) {
        TrackedConnection c = registry.get(buffer);
        if (c != null) {
            monitor.progress(c);
        }
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

    private TrackedConnection track(Object buffer, Object channel, boolean atStopSignal, long pending) {
        TrackedConnection c = registry.get(buffer);
        if (c != null) {
            return c;
        }
        return monitor.track(buffer, Layer.NETTY, access, access.remoteAddress(buffer, channel),
                access.localAddress(buffer, channel), atStopSignal, pending);
    }

    private static boolean isEmbedded(Object channel) {
        return channel.getClass().getName().equals(EMBEDDED_CHANNEL);
    }
}
