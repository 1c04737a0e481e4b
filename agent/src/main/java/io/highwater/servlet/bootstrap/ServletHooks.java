package io.highwater.servlet.bootstrap;

/**
 * What the servlet advice reports. Called only on slow paths: an async stream's readiness changing, a write while
 * an async stream is not ready, a write that threw, a container's socket wait, a container's blocking write to the
 * connection (once per buffer handed to the transport, never per application write), an application write too large
 * for the container's buffer. Implementations must never throw and must be
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

    /**
     * A write of {@code bytes} is about to run while some stream was not ready (it may be this one). Returns true when
     * it was judged an ignored write (this stream's {@code isReady()} had returned false), so that the container
     * refusing it afterwards is not counted again.
     */
    boolean writeWhileNotReady(Object stream, long bytes);

    /**
     * A write of {@code bytes} that {@link #writeWhileNotReady} did not judge threw {@code thrown} before it returned:
     * the container refused it ({@code IllegalStateException}, {@code WritePendingException}) or the client went
     * away ({@code IOException}).
     */
    void writeRefused(Object stream, long bytes, Throwable thrown);

    /** The container is recycling or discarding {@code stream} (the response is over). */
    void recycled(Object stream);

    /**
     * Whether the guard refused the writes of {@code stream}'s connection ({@code highwater.guard.action=fail}): the
     * write about to run is not made and fails with {@link #refusal}. Asked only while the gate counter is not 0.
     */
    boolean refuses(Object stream);

    /**
     * The guard's {@code IOException} for a refused write of {@code stream} (naming highwater, the limit and the
     * setting), with {@code thrown}, what the container threw for the emptied write if anything, as its cause.
     */
    java.io.IOException refusal(Object stream, Throwable thrown);

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

    /**
     * Tomcat's response buffer {@code outputBuffer} begins passing bytes {@code off} to {@code end} of the
     * application's {@code array} down in slices, without copying them (a write larger than the response buffer).
     */
    void arrayWriteBegins(Object outputBuffer, byte[] array, int off, int end);

    /** {@code outputBuffer} hands {@code slice}, a view of the application's array, to the connection. */
    void arraySlice(Object outputBuffer, java.nio.ByteBuffer slice);

    /** The write that {@link #arrayWriteBegins} announced returned or threw. */
    void arrayWriteEnds(Object outputBuffer);

    /**
     * Jetty's async write {@code write} of {@code stream} hands the application's content to the connection one
     * slice at a time (content larger than the stream's buffer).
     */
    void slicedAsyncWrite(Object stream, Object write);

    /** Does nothing: installed before the agent is ready and after it detached. */
    ServletHooks NOOP = new ServletHooks() {
        @Override
        public void notReady(Object stream) {
        }

        @Override
        public void ready(Object stream) {
        }

        @Override
        public boolean writeWhileNotReady(Object stream, long bytes) {
            return false;
        }

        @Override
        public void writeRefused(Object stream, long bytes, Throwable thrown) {
        }

        @Override
        public void recycled(Object stream) {
        }

        @Override
        public boolean refuses(Object stream) {
            return false;
        }

        @Override
        public java.io.IOException refusal(Object stream, Throwable thrown) {
            return null;
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

        @Override
        public void arrayWriteBegins(Object outputBuffer, byte[] array, int off, int end) {
        }

        @Override
        public void arraySlice(Object outputBuffer, java.nio.ByteBuffer slice) {
        }

        @Override
        public void arrayWriteEnds(Object outputBuffer) {
        }

        @Override
        public void slicedAsyncWrite(Object stream, Object write) {
        }
    };
}
