package io.highwater.reactor.advice;

import io.highwater.reactor.bootstrap.ReactorCalls;
import net.bytebuddy.asm.Advice;

import java.util.Queue;

/**
 * Inlined at the start of {@code SinkManyUnicast.tryEmitNext(Object)} ({@code Sinks.many().unicast()
 * .onBackpressureBuffer()}, whose queue is unbounded): an emission while the subscriber's demand is 0 stays queued.
 * One volatile read.
 */
public final class UnicastEmitAdvice {

    private UnicastEmitAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object sink, @Advice.FieldValue("requested") long requested,
                      @Advice.FieldValue("queue") Queue<?> queue, @Advice.Argument(0) Object element) {
        if (requested == 0L) {
            ReactorCalls.nextWithoutDemand(sink, queue, element);
        }
    }
}
