package io.highwater.grpc.advice;

import io.highwater.grpc.bootstrap.GrpcCalls;
import net.bytebuddy.asm.Advice;

/**
 * On {@code AbstractStream$TransportState.onSendingBytes(int)} (the application's thread, per framer flush): gRPC
 * has just counted bytes handed to the transport. At or above the on-ready threshold the call is not ready: its stop
 * signal. Fast path: two field reads and a compare.
 */
public final class SendingBytesAdvice {

    private SendingBytesAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object state, @Advice.FieldValue("numSentBytesQueued") int queued,
                     @Advice.FieldValue("onReadyThreshold") int threshold) {
        if (queued >= threshold) {
            GrpcCalls.aboveThreshold(state, queued);
        }
    }
}
