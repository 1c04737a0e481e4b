package io.highwater.reactor.advice;

import io.highwater.reactor.bootstrap.ReactorCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the end of {@code SinkManyEmitterProcessor.tryEmitNext(Object)} ({@code Sinks.many().multicast()
 * .onBackpressureBuffer()}, whose queue is bounded): a result other than {@code OK} (ordinal 0) goes to the slow
 * path, which counts {@code FAIL_OVERFLOW}, the producer emitting beyond what its slowest subscriber asked for, and
 * losing the element. One reference test and one field read.
 */
public final class MulticastEmitAdvice {

    private MulticastEmitAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object sink, @Advice.Return Object result, @Advice.Argument(0) Object element) {
        if (result != null && ((Enum<?>) result).ordinal() != 0) {
            ReactorCalls.emissionFailed(sink, result, element);
        }
    }
}
