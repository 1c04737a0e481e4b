package io.highwater.core;

import java.net.SocketAddress;

/**
 * Reads a transport's own accounting (for Netty, the {@code ChannelOutboundBuffer}'s pending bytes) and tells what
 * connection it belongs to. One instance per layer; implementations must be thread-safe and must not throw.
 */
public interface TransportProbe {

    /** Bytes queued in the process for this connection, or -1 when it can no longer be read. */
    long pendingBytes(Object transport);

    /**
     * Elements queued for this connection that are not bytes (a Reactor queue of objects an encoder has yet to
     * turn into bytes): {@code backpressure.pending.items}. 0 for transports that queue bytes.
     */
    default long pendingItems(Object transport) {
        return 0;
    }

    /**
     * For a stream of a multiplexed connection with a connection-level flow-control window (HTTP/2): the bytes the
     * peer still lets the sender write on the whole connection, whichever stream writes them; 0 when exhausted (one
     * slow stream holding the window starves the others). -1 when the transport has no such window or it cannot be
     * read. Read at collection time, for the top N connections only.
     */
    default long connectionWindow(Object transport) {
        return -1;
    }

    /** False once the connection is closed: it then leaves the registry. */
    boolean isOpen(Object transport);

    /** The peer's address, read once when the connection is tracked; null when unknown. */
    SocketAddress peer(Object transport);

    /** The local (server) address, read once when the connection is tracked; null when unknown. */
    SocketAddress local(Object transport);

    /**
     * Whether the transport holds this connection in a stop state right now: 1 yes, 0 no, -1 when it cannot tell
     * (then the agent relies on the signals it saw). Read by the agent's timer, to catch up with a missed signal.
     */
    default int stopState(Object transport) {
        return -1;
    }

    /**
     * What identifies the connection across layers, when the transport knows better than its addresses: for
     * Netty-based stacks the connection's {@code Channel} (an HTTP/2 stream's parent), so that a Reactor queue,
     * an HTTP/2 stream and the channel's outbound buffer add up to one connection. Null: the connection is its
     * addresses ({@link TrackedConnection#connectionKey()}).
     */
    default Object connection(Object transport) {
        return null;
    }

    /**
     * Closes the connection through the transport's own close (Netty's {@code Channel.close()}, the socket's close),
     * so that its buffers are released and the application sees an ordinary closed connection: the guard's action.
     * Must not block for long and must not throw.
     *
     * @return false when this transport cannot be closed by the agent (then the guard says so and does nothing)
     */
    default boolean close(Object transport) {
        return false;
    }

    /**
     * For a transport whose writes cannot be refused on a slow path before they are made (a blocking socket write
     * is in the kernel already): makes its writes fail from now on with an {@code IOException} carrying {@code
     * message} (the guard's {@code fail}). False when unsupported: the integration's slow path refuses the next write
     * instead, where it has one.
     */
    default boolean refuse(Object transport, String message) {
        return false;
    }

    /**
     * Whether the integration refuses a write of a connection the guard marked, on its own write path (Netty: the
     * write into an unwritable channel); false when only {@link #refuse} can make its writes fail.
     */
    default boolean refusesOnWritePath() {
        return false;
    }
}
