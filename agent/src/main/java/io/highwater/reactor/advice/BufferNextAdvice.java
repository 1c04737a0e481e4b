package io.highwater.reactor.advice;

import io.highwater.reactor.bootstrap.ReactorCalls;
import net.bytebuddy.asm.Advice;

import java.util.Queue;

/**
 * Inlined at the start of {@code FluxOnBackpressureBuffer$BackpressureBufferSubscriber.onNext(Object)} (the
 * {@code onBackpressureBuffer()} operator, which requests everything upstream and queues what its downstream has not
 * asked for): an element arriving while the downstream demand is 0 stays queued. Whether the queue is bounded
 * ({@code onBackpressureBuffer(n)}, never ignoring) is decided on the slow path. One volatile read.
 */
public final class BufferNextAdvice {

    private BufferNextAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object buffer, @Advice.FieldValue("requested") long requested,
                      @Advice.FieldValue("queue") Queue<?> queue, @Advice.Argument(0) Object element) {
        if (requested == 0L) {
            ReactorCalls.nextWithoutDemand(buffer, queue, element);
        }
    }
}
