package io.highwater.grpc.advice;

import io.highwater.grpc.bootstrap.GrpcCalls;
import net.bytebuddy.asm.Advice;

/**
 * On {@code io.grpc.internal.ServerCallImpl.sendMessage} and {@code ClientCallImpl.sendMessage}: the one place every
 * application message passes exactly once ({@code StreamObserver.onNext}, {@code ServerCall.sendMessage} and every
 * interceptor's forwarding end here), below the retry and delayed-call wrappers that would replay it. Fast path: one
 * volatile read of the count of calls that are not ready.
 */
public final class SendMessageAdvice {

    private SendMessageAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static long enter(@Advice.This Object call) {
        return GrpcCalls.notReadyCalls.get() != 0 ? GrpcCalls.beforeSend(call) : -1L;
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object call, @Advice.Enter long queuedBefore) {
        if (queuedBefore >= 0) {
            GrpcCalls.afterSend(call, queuedBefore);
        }
    }
}
