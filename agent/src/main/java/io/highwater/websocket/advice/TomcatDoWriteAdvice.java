package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the end of Tomcat's {@code WsRemoteEndpointImplServer.doWrite(SendHandler, boolean, long, ByteBuffer...)},
 * for both kinds of write (one advice: two on this large method cost more than their tests).
 * <ul>
 *   <li>{@code block} true: the write of a {@code RemoteEndpoint.Basic} send (or a send stream's or writer's flush),
 *       which the calling thread waits in until the socket has taken every byte or the send timed out. Its wait began
 *       where the socket refused bytes ({@link TomcatSocketWaitAdvice}); it ends here. While no such wait runs in the
 *       JVM, one volatile read.</li>
 *   <li>{@code block} false: a non-blocking write that completed inline has already cleared {@code handler} at exit;
 *       one still set waits for the socket to accept the rest: a stop, until the handler is cleared.</li>
 * </ul>
 */
public final class TomcatDoWriteAdvice {

    private TomcatDoWriteAdvice() {
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This Object endpoint, @Advice.Argument(1) boolean block,
                     @Advice.Argument(3) Object[] buffers, @Advice.FieldValue("handler") Object handler,
                     @Advice.Thrown Throwable thrown) {
        if (block) {
            if (WebSocketCalls.tomcatBlocking != 0) {
                WebSocketCalls.tomcatBlockingEnds(endpoint);
            }
        } else if (handler != null && thrown == null) {
            WebSocketCalls.tomcatWritePending(endpoint, buffers);
        }
    }
}
