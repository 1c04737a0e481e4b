package io.highwater.core;

/**
 * Reads a transport's own accounting at collection time (for Netty, the {@code ChannelOutboundBuffer}'s
 * pending bytes). One instance per layer; implementations must be thread-safe and must not throw.
 */
public interface TransportProbe {

    /** Bytes queued in the process for this connection, or -1 when it can no longer be read. */
    long pendingBytes(Object transport);

    /** False once the connection is closed: it then leaves the registry. */
    boolean isOpen(Object transport);

    /**
     * Whether the transport holds this connection in a stop state right now: 1 yes, 0 no, -1 when it cannot tell
     * (then the agent relies on the signals it saw). Read by the agent's timer, to catch up with a missed signal.
     */
    default int stopState(Object transport) {
        return -1;
    }
}
