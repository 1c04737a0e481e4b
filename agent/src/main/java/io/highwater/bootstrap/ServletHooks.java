package io.highwater.bootstrap;

/**
 * What the servlet advice reports. Called only on slow paths: an async stream's readiness changing, a write while
 * an async stream is not ready, a container's socket wait, a container's blocking write to the connection (once
 * per buffer handed to the transport, never per application write). Implementations must never throw and must be
 * thread-safe.
 *
 * <p>Arguments are typed {@code Object} so that this interface, which lives on the bootstrap class path, needs no
 * servlet or container class: {@code stream} is the container's {@code ServletOutputStream} (javax or jakarta),
 * {@code socket} a container socket wrapper (Tomcat's {@code NioEndpoint$NioSocketWrapper}).
 */
public interface ServletHooks {

    /** {@code isReady()} returned false: the stream is not ready until a later {@code isReady()} returns true. */
    void notReady(Object stream);

    /** {@code isReady()} returned true while some stream was not ready (called only while {@link Bridge#servletNotReady} is not 0). */
    void ready(Object stream);

    /** A write of {@code bytes} is about to run while some stream was not ready (it may be this one). */
    void writeWhileNotReady(Object stream, long bytes);

    /** The container is recycling or discarding {@code stream} (the response is over). */
    void recycled(Object stream);

    /** A thread is about to wait for the socket of {@code socket} to become writable, inside a blocking write. */
    void socketWaitBegins(Object socket);

    /**
     * A blocking write on {@code socket} returned, or threw ({@code failed}: the client went away), while some
     * thread was waiting ({@link Bridge#servletBlocked} not 0).
     */
    void socketWriteReturned(Object socket, boolean failed);

    /**
     * A blocking write of {@code bytes} by the container to the connection of {@code stream} begins; returns a
     * token for the end (0: nothing to end).
     */
    long blockingWriteBegins(Object stream, long bytes);

    /** The blocking write that returned {@code token} ended: returned, or threw ({@code failed}). */
    void blockingWriteEnds(Object stream, long token, boolean failed);

    /** Does nothing: installed before the agent is ready and after it detached. */
    ServletHooks NOOP = new ServletHooks() {
        @Override
        public void notReady(Object stream) {
        }

        @Override
        public void ready(Object stream) {
        }

        @Override
        public void writeWhileNotReady(Object stream, long bytes) {
        }

        @Override
        public void recycled(Object stream) {
        }

        @Override
        public void socketWaitBegins(Object socket) {
        }

        @Override
        public void socketWriteReturned(Object socket, boolean failed) {
        }

        @Override
        public long blockingWriteBegins(Object stream, long bytes) {
            return 0;
        }

        @Override
        public void blockingWriteEnds(Object stream, long token, boolean failed) {
        }
    };
}
