package io.highwater.vertx.advice;

import io.highwater.vertx.bootstrap.VertxCalls;
import net.bytebuddy.asm.Advice;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Inlined into Vert.x 5's {@code OutboundMessageQueue.write(Object)}, the one entry of every connection-level write
 * (HTTP/1 responses, {@code NetSocket}, WebSocket frames) and every HTTP/2 stream write, on the writer's own thread:
 * where the application's call is judged, once. Enter: the queue is full ({@code writeQueueFull()} is true) and the
 * application writes anyway. Exit: this write turned it full, the stop signal a respecting writer obeys.
 */
public final class QueueWriteAdvice {

    private QueueWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static boolean enter(@Advice.This Object queue,
                         @Advice.FieldValue("numberOfUnwritableSignals") AtomicInteger unwritable,
                         @Advice.Argument(0) Object message) {
        if (unwritable.get() > 0) {
            VertxCalls.writeWhileFull(queue, message);
            return true;
        }
        return false;
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object queue, @Advice.Enter boolean wasFull, @Advice.Return boolean mayContinue) {
        if (!mayContinue && !wasFull) {
            VertxCalls.queueFull(queue);
        }
    }
}
