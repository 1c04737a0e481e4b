package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the exit of Tomcat's {@code WsRemoteEndpointImplServer.doWrite(SendHandler, boolean, long,
 * ByteBuffer...)}. A non-blocking write that completed inline has already cleared {@code handler}; one still set
 * waits for the socket to accept the rest: a stop, until the handler is cleared. Fast path: one volatile read.
 */
public final class TomcatDoWriteAdvice {

    private TomcatDoWriteAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object endpoint, @Advice.Argument(1) boolean block,
                     @Advice.Argument(3) Object[] buffers, @Advice.FieldValue("handler") Object handler) {
        if (!block && handler != null) {
            WebSocketCalls.tomcatWritePending(endpoint, buffers);
        }
    }
}
