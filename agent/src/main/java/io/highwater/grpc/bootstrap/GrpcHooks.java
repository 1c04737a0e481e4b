package io.highwater.grpc.bootstrap;

/**
 * What the gRPC advice reports, on slow paths only. Arguments are typed {@code Object} so that this interface needs
 * no gRPC class: {@code state} is an {@code io.grpc.internal.AbstractStream$TransportState} (the transport's side
 * of one call, which counts the bytes handed to the transport and not yet written), {@code call} an
 * {@code io.grpc.internal.ServerCallImpl} or {@code ClientCallImpl}. Implementations must never throw and must be
 * thread-safe: application threads and event loops call concurrently.
 */
public interface GrpcHooks {

    /** The call's queued bytes reached its on-ready threshold: {@code isReady()} is false from here (app thread). */
    void aboveThreshold(Object state, int queued);

    /** Bytes of a call left for the socket while some call is not ready (event loop); {@code queued} after. */
    void sent(Object state, int queued, int threshold);

    /** The call's stream is closed; {@code queued} bytes were never written. */
    void deallocated(Object state, int queued);

    /**
     * The application is about to send a message on {@code call} while some call is not ready: the call's queued
     * bytes when it is not ready itself, else -1 (nothing to judge).
     */
    long beforeSend(Object call);

    /** The send of a message that {@link #beforeSend} found not ready returned; judges it. */
    void afterSend(Object call, long queuedBefore);

    /** Does nothing: installed before the agent is ready and after it detached. */
    GrpcHooks NOOP = new GrpcHooks() {
        @Override
        public void aboveThreshold(Object state, int queued) {
        }

        @Override
        public void sent(Object state, int queued, int threshold) {
        }

        @Override
        public void deallocated(Object state, int queued) {
        }

        @Override
        public long beforeSend(Object call) {
            return -1;
        }

        @Override
        public void afterSend(Object call, long queuedBefore) {
        }
    };
}
