package io.highwater.grpc.advice;

import io.highwater.grpc.bootstrap.GrpcCalls;
import net.bytebuddy.asm.Advice;

/**
 * On {@code AbstractStream$TransportState.onSentBytes(int)} (the event loop, per frame written): bytes left for the
 * socket. Only while some call is not ready: its drain progress, and below the threshold its go signal.
 */
public final class SentBytesAdvice {

    private SentBytesAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object state, @Advice.FieldValue("numSentBytesQueued") int queued,
                     @Advice.FieldValue("onReadyThreshold") int threshold) {
        if (GrpcCalls.notReadyCalls.get() != 0) {
            GrpcCalls.sent(state, queued, threshold);
        }
    }
}
