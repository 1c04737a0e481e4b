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
 */
public final class NettyAdapter implements NettyHooks {

    private static final String EMBEDDED_CHANNEL = "io.netty.channel.embedded.EmbeddedChannel";

    private final Monitor monitor;
    private final ConnectionRegistry registry;
    private final NettyAccess access = new NettyAccess();

    public NettyAdapter(Monitor monitor) {
        this.monitor = monitor;
        this.registry = monitor.registry();
    }

    @Override
    public void writeWhileUnwritable(Object buffer, Object channel, long pendingBefore, long highWaterMark, int size) {
        if (isEmbedded(channel)) {
            return;
        }
        // registering here (not only at the stop signal) picks up connections that were already
        // unwritable when the agent attached
        TrackedConnection c = track(buffer, channel, false);
        if (monitor.beyondTolerance(pendingBefore, highWaterMark)) {
            monitor.ignoredWrite(c, Signal.CHANNEL_UNWRITABLE, size);
        }
    }

    @Override
    public void submitWhileUnwritable(Object buffer, Object channel, long pendingBefore, long highWaterMark) {
        if (isEmbedded(channel) || !monitor.beyondTolerance(pendingBefore, highWaterMark)) {
            return;
        }
        TrackedConnection c = track(buffer, channel, false);
        if (c != null) {
            monitor.ignoredSubmit(c, Signal.CHANNEL_UNWRITABLE);
        }
    }

    @Override
    public void writabilityChanged(Object buffer, Object channel, boolean writable) {
        if (!writable && !isEmbedded(channel)) {
            track(buffer, channel, true);
        }
    }

    @Override
    public void closed(Object buffer) {
        if (!registry.isEmpty()) {
            registry.remove(buffer);
        }
    }

    public NettyAccess access() {
        return access;
    }

    private TrackedConnection track(Object buffer, Object channel, boolean atStopSignal) {
        TrackedConnection c = registry.get(buffer);
        if (c != null) {
            return c;
        }
        return registry.register(buffer, Layer.NETTY, access, access.remoteAddress(buffer, channel),
                access.localAddress(buffer, channel), atStopSignal);
    }

    private static boolean isEmbedded(Object channel) {
        return channel.getClass().getName().equals(EMBEDDED_CHANNEL);
    }
}
