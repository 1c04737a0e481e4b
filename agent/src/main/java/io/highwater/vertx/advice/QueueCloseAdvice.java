package io.highwater.vertx.advice;

import io.highwater.vertx.bootstrap.VertxCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of Vert.x 5's {@code OutboundMessageQueue.close()}: the connection or stream is closing, and
 * what the queue holds is disposed of, never sent. Once per queue.
 */
public final class QueueCloseAdvice {

    private QueueCloseAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object queue) {
        VertxCalls.queueClosed(queue);
    }
}
