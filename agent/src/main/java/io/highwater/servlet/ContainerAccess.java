package io.highwater.servlet;

import java.net.SocketAddress;

/**
 * What one container exposes about the transports its part of the servlet integration tracks (its output streams,
 * its sockets): read from the agent's class loader, which cannot link against the container, through method handles
 * of the references its {@link ContainerPart} checked at install. Used at collection time and on slow paths;
 * implementations never throw.
 */
public interface ContainerAccess {

    /** True for the objects this container's part tracks. */
    boolean covers(Object transport);

    /** Bytes the container holds for {@code transport} and has not handed to the socket yet. */
    long pendingBytes(Object transport);

    boolean isOpen(Object transport);

    /** The peer's ({@code remote}) or the container's address of {@code transport}'s connection, or null. */
    SocketAddress address(Object transport, boolean remote);

    /**
     * True when {@code stream} is known to be in blocking mode (no write listener), where a refused write cannot be a
     * write while not ready; false when it is async or unknown.
     */
    boolean isBlocking(Object stream);

    /** See {@link ServletAccess#connectionOf}: null when the container tracks a stream's connection by the stream. */
    default Object connectionOf(Object stream) {
        return null;
    }

    /**
     * Closes the connection of {@code transport} through the container's own abort of the response and of its
     * connection, so that the container releases what it holds and the application sees an ordinary closed
     * connection: the guard's {@code close}. Never throws, never blocks for long.
     *
     * @return false when this container (or this version of it) offers no such close
     */
    default boolean close(Object transport) {
        return false;
    }
}
