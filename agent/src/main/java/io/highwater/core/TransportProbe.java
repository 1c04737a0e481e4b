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
}
