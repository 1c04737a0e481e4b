package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of Spring's private {@code ConcurrentWebSocketSessionDecorator.checkSessionLimits()}, which
 * runs only when a send found another thread sending and left its message in the decorator's buffer: already a slow
 * path, so no test before the call.
 */
public final class SpringBufferingAdvice {

    private SpringBufferingAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object decorator) {
        WebSocketCalls.springBuffering(decorator);
    }
}
