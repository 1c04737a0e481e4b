package io.netty.channel;

/**
 * Reaches the package-private members of {@link ChannelOutboundBuffer} that the benchmarks drive directly.
 * Lives in Netty's package on the class path (same class loader, so same runtime package); benchmark code only.
 */
public final class OutboundBufferAccess {

    private OutboundBufferAccess() {
    }

    /** What Netty does on the submitting thread for a write made from outside the event loop. */
    public static void incrementPendingOutboundBytes(ChannelOutboundBuffer buffer, long size) {
        buffer.incrementPendingOutboundBytes(size);
    }

    /** What Netty does when that write task runs (or is cancelled) on the event loop. */
    public static void decrementPendingOutboundBytes(ChannelOutboundBuffer buffer, long size) {
        buffer.decrementPendingOutboundBytes(size);
    }
}
