package io.highwater.http2.advice;

import io.highwater.http2.bootstrap.Http2Calls;
import net.bytebuddy.asm.Advice;

/**
 * On {@code DefaultHttp2RemoteFlowController$FlowState.cancel(Http2Error, Throwable)}: Netty gives up a stream's
 * queue when the stream closes (the client reset it, or the connection went away). What the queue still holds then
 * was never delivered; the episode of a stream that ends so must say it, as a connection closed with bytes left does.
 * Once per closed stream; only a stream that still holds bytes goes further than the compare.
 */
public final class StreamCancelAdvice {

    private StreamCancelAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object state, @Advice.FieldValue("pendingBytes") long pending) {
        if (pending > 0) {
            Http2Calls.cancelled(state, pending);
        }
    }
}
