package io.highwater.vertx.advice;

import io.highwater.vertx.bootstrap.VertxCalls;
import net.bytebuddy.asm.Advice;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Inlined at the end of Vert.x 5's private {@code OutboundMessageQueue.handleDrained(int)}, which runs only when a
 * drain took the queue below its low-water mark: writable again, just before Vert.x schedules the drain handler.
 */
public final class QueueDrainedAdvice {

    private QueueDrainedAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object queue,
                     @Advice.FieldValue("numberOfUnwritableSignals") AtomicInteger unwritable) {
        if (unwritable.get() <= 0) {
            VertxCalls.queueDrained(queue);
        }
    }
}
