package io.grpc.internal;

/**
 * A gRPC stream with grpc-core's own accounting of queued bytes ({@code AbstractStream$TransportState}, what
 * {@code isReady()} is made of) and no transport: for the benchmark of the agent's gRPC advice, which is inlined into
 * {@code onSendingBytes} (the application's side, per framer flush) and {@code onSentBytes} (the event loop's side, per
 * frame written). In grpc-core's package for its protected constructor and members.
 */
public final class BenchGrpcStream extends AbstractStream {

    /** The transport side: grpc-core's class, with the transport's callbacks doing nothing. */
    public static final class State extends AbstractStream.TransportState {
        private final StreamListener listener = new StreamListener() {
            @Override
            public void messagesAvailable(MessageProducer producer) {
            }

            @Override
            public void onReady() {
            }
        };

        State() {
            super(Integer.MAX_VALUE, StatsTraceContext.NOOP, new TransportTracer());
            // as a transport does once its HTTP/2 stream exists: from here on the stream can be ready
            onStreamAllocated();
        }

        @Override
        protected StreamListener listener() {
            return listener;
        }

        @Override
        public void bytesRead(int numBytes) {
        }

        @Override
        public void deframerClosed(boolean hasPartialMessage) {
        }

        @Override
        public void deframeFailed(Throwable cause) {
        }

        @Override
        public void runOnTransportThread(Runnable r) {
            r.run();
        }
    }

    private final State state = new State();

    @Override
    protected Framer framer() {
        throw new UnsupportedOperationException("no framer: the benchmark counts bytes only");
    }

    @Override
    public State transportState() {
        return state;
    }

    /** What a framer flush of {@code n} bytes does to the accounting (on the application's thread). */
    public void sending(int n) {
        onSendingBytes(n);
    }

    /** What a written frame of {@code n} bytes does to it (on the event loop). */
    public void sent(int n) {
        state.onSentBytes(n);
    }
}
