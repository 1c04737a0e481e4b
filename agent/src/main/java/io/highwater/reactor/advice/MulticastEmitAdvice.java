package io.highwater.reactor.advice;

import io.highwater.reactor.bootstrap.ReactorCalls;
import net.bytebuddy.asm.Advice;

import java.util.Queue;

/**
 * Inlined at the end of {@code SinkManyEmitterProcessor.tryEmitNext(Object)} ({@code Sinks.many().multicast()
 * .onBackpressureBuffer()}): the processor offers the element to its queue and drains it to its subscribers as far
 * as the slowest one asked for, on the emitting thread. A result other than {@code OK} (ordinal 0) goes to the slow
 * path that counts {@code FAIL_OVERFLOW} (a bounded queue full, the element lost); an {@code OK} that leaves the
 * queue holding elements means they wait for demand (or for the drain running on another thread), the slow path of
 * an element queued without demand. One reference test, then one field read and the queue's emptiness test
 * (Reactor's queues: two index reads).
 */
public final class MulticastEmitAdvice {

    private MulticastEmitAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object sink, @Advice.Return Object result, @Advice.Argument(0) Object element,
                     @Advice.FieldValue("queue") Queue<?> queue) {
        if (result != null && ((Enum<?>) result).ordinal() != 0) {
            ReactorCalls.emissionFailed(sink, result, element);
        } else if (queue != null && !queue.isEmpty()) {
            ReactorCalls.nextWithoutDemand(sink, queue, element);
        }
    }
}
