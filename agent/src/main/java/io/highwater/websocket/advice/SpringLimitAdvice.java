package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of Spring's private {@code ConcurrentWebSocketSessionDecorator.limitExceeded(String)}: the
 * decorator's send time or buffer size limit was exceeded, and it is about to throw
 * {@code SessionLimitExceededException} and have the session closed. Runs once per session at most.
 */
public final class SpringLimitAdvice {

    private SpringLimitAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object decorator, @Advice.Argument(0) String reason) {
        WebSocketCalls.springLimitExceeded(decorator, reason);
    }
}
