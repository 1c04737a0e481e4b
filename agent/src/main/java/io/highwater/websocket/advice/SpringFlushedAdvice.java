package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the exit of Spring's private {@code ConcurrentWebSocketSessionDecorator.tryFlushMessageBuffer()}, which
 * every send runs: the end of a wait when the buffer is empty. Fast path: one volatile read while no send waits.
 */
public final class SpringFlushedAdvice {

    private SpringFlushedAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
    static void exit(@Advice.This Object decorator) {
        if (WebSocketCalls.waiting != 0) {
            WebSocketCalls.springFlushed(decorator);
        }
    }
}
