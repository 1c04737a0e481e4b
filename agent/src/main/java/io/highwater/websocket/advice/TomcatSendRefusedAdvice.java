package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the exit of Tomcat's {@code WsRemoteEndpointImplBase} send methods that take the message as their first
 * argument ({@code sendString}, {@code sendBytes}, {@code sendPartialString}, {@code sendPartialBytes},
 * {@code sendStringByCompletion}, {@code sendBytesByCompletion}). Tomcat's state machine allows one message at a
 * time and refuses a second with an {@code IllegalStateException}: this advice reports the refusal before the
 * exception reaches the application, so the application's frame is still on the stack. Fast path: a null test.
 */
public final class TomcatSendRefusedAdvice {

    private TomcatSendRefusedAdvice() {
    }

    @Advice.OnMethodExit(onThrowable = IllegalStateException.class, suppress = Throwable.class)
    static void exit(@Advice.This Object endpoint, @Advice.Argument(0) Object payload,
                     @Advice.Thrown Throwable thrown) {
        if (thrown != null) {
            WebSocketCalls.tomcatSendRefused(endpoint, payload, thrown);
        }
    }
}
