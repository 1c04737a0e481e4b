package io.highwater.reactor.advice;

import io.highwater.reactor.bootstrap.ReactorCalls;
import net.bytebuddy.asm.Advice;

import java.util.Queue;

/**
 * Inlined at the start of {@code FluxCreate$BufferAsyncSink.next(Object)}, which every element of a
 * {@code Flux.create} (BUFFER, the default) or {@code Flux.push} sink passes exactly once, on the producer's thread
 * (under contention, on another producer's): an element emitted while the downstream asked for none joins the
 * sink's unbounded queue. The fast path is one volatile read of the demand Reactor keeps anyway.
 */
public final class CreateNextAdvice {

    private CreateNextAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object sink, @Advice.FieldValue("requested") long requested,
                      @Advice.FieldValue("queue") Queue<?> queue, @Advice.Argument(0) Object element) {
        // the top bit marks a registered request consumer, not demand
        if ((requested & Long.MAX_VALUE) == 0L) {
            ReactorCalls.nextWithoutDemand(sink, queue, element);
        }
    }
}
