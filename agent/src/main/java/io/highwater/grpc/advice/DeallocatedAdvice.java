package io.highwater.grpc.advice;

import io.highwater.grpc.bootstrap.GrpcCalls;
import net.bytebuddy.asm.Advice;

/** On {@code AbstractStream$TransportState.onStreamDeallocated()}: the call's stream is gone (once per call). */
public final class DeallocatedAdvice {

    private DeallocatedAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object state, @Advice.FieldValue("numSentBytesQueued") int queued) {
        if (GrpcCalls.notReadyCalls.get() != 0) {
            GrpcCalls.deallocated(state, queued);
        }
    }
}
