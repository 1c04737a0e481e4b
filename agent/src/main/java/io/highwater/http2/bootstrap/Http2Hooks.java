package io.highwater.http2.bootstrap;

/**
 * What the HTTP/2 advice reports, on transitions only. {@code child} is an {@code AbstractHttp2StreamChannel} of any
 * copy of Netty (typed {@code Object}: this interface lives on the bootstrap class path and needs no Netty class).
 * Implementations must never throw and must be thread-safe.
 */
public interface Http2Hooks {

    /** The stream channel's writability changed (its stop or go signal); read its state to tell which. */
    void childWritabilityChanged(Object child);

    /**
     * A request's HEADERS were read on {@code channel} (the connection) for stream {@code streamId}, with
     * {@code :path} {@code path}: remembered for the stream's name (per request, on the event loop).
     */
    void headers(Object channel, int streamId, CharSequence path);

    /**
     * A frame ({@code Http2RemoteFlowController.FlowControlled}: a DATA frame, or HEADERS queued behind DATA) enters
     * the queue of a stream in Netty's remote flow controller ({@code DefaultHttp2RemoteFlowController$FlowState}) that
     * already holds {@code pendingBefore} bytes, more than {@link Http2Calls#FLOOR}; on the thread that writes it
     * (the connection's event loop), before it is counted.
     */
    void enqueued(Object flowState, Object frame, long pendingBefore);

    /**
     * Netty cancels the state of a stream that closed while its queue still held {@code pendingBefore} bytes (the
     * client reset the stream or went away): they will never be written. On the connection's event loop, before Netty
     * fails the frames.
     */
    void cancelled(Object flowState, long pendingBefore);

    /** Does nothing: installed before the agent is ready and after it detached. */
    Http2Hooks NOOP = new Http2Hooks() {
        @Override
        public void childWritabilityChanged(Object child) {
        }

        @Override
        public void headers(Object channel, int streamId, CharSequence path) {
        }

        @Override
        public void enqueued(Object flowState, Object frame, long pendingBefore) {
        }

        @Override
        public void cancelled(Object flowState, long pendingBefore) {
        }
    };
}
