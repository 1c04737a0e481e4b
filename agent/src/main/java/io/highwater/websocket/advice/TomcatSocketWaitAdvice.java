package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of Tomcat's {@code NioEndpoint$NioSocketWrapper.registerWriteInterest()}: a write that found
 * the socket full is about to wait for the poller. Reached only then, so a {@code RemoteEndpoint.Basic} send that the
 * socket takes at once costs nothing here; the agent tells from the pending write operation (its blocking mode, its
 * completion handler) whether it is such a send.
 */
public final class TomcatSocketWaitAdvice {

    private TomcatSocketWaitAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.FieldValue("writeOperation") Object operation) {
        if (operation != null) {
            WebSocketCalls.tomcatSocketWaits(operation);
        }
    }
}
