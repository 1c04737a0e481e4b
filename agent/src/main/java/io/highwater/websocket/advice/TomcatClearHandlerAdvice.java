package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of Tomcat's {@code WsRemoteEndpointImplServer.clearHandler(Throwable, boolean)}, which runs
 * when a write completes or fails: the end of a wait begun by {@link TomcatDoWriteAdvice}. Fast path (every message):
 * one volatile read while no send waits.
 */
public final class TomcatClearHandlerAdvice {

    private TomcatClearHandlerAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object endpoint) {
        if (WebSocketCalls.waiting != 0) {
            WebSocketCalls.tomcatWriteDone(endpoint);
        }
    }
}
