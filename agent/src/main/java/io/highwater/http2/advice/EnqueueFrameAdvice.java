package io.highwater.http2.advice;

import io.highwater.http2.bootstrap.Http2Calls;
import net.bytebuddy.asm.Advice;

/**
 * On {@code DefaultHttp2RemoteFlowController$FlowState.enqueueFrame(FlowControlled)}: every DATA frame any writer hands
 * to an HTTP/2 connection of Netty's (stream channels, gRPC, Vert.x, Armeria, an {@code Http2ConnectionHandler}
 * subclass calling {@code encoder().writeData}) enters its stream's queue here, once, before the flow controller
 * counts it. Fast path: one read of the stream's {@code pendingBytes} field and a compare with a constant; a stream
 * that holds less than {@link Http2Calls#FLOOR} (the normal case: a frame with window and socket room left goes out at
 * the next flush) costs nothing more. Arguments typed {@code Object}: no Netty type is named, so the same advice fits
 * every relocated copy.
 */
public final class EnqueueFrameAdvice {

    private EnqueueFrameAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object state, @Advice.FieldValue("pendingBytes") long pending,
                      @Advice.Argument(0) Object frame) {
        if (pending > Http2Calls.FLOOR) {
            Http2Calls.enqueued(state, frame, pending);
        }
    }
}
