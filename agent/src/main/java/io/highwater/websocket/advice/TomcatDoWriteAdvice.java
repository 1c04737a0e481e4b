package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined around Tomcat's {@code WsRemoteEndpointImplServer.doWrite(SendHandler, boolean, long, ByteBuffer...)}, for
 * both kinds of write (one advice: two on this large method cost more than their tests).
 * <ul>
 *   <li>{@code block} true: the write of a {@code RemoteEndpoint.Basic} send (or a send stream's or writer's flush),
 *       which the calling thread waits in until the socket has taken every byte or the send timed out. Noted at
 *       entry, forgotten at exit; the agent's timer turns one still running after a millisecond into a wait of its
 *       connection.</li>
 *   <li>{@code block} false: a non-blocking write that completed inline has already cleared {@code handler} at exit;
 *       one still set waits for the socket to accept the rest: a stop, until the handler is cleared.</li>
 * </ul>
 * Fast path of a non-blocking write: a test of {@code block} at entry, of the token and one volatile read at exit.
 */
public final class TomcatDoWriteAdvice {

    private TomcatDoWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static long enter(@Advice.This Object endpoint, @Advice.Argument(1) boolean block,
                      @Advice.Argument(3) Object[] buffers) {
        return block ? WebSocketCalls.tomcatBlockingBegins(endpoint, buffers) : 0L;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This Object endpoint, @Advice.Argument(1) boolean block,
                     @Advice.Argument(3) Object[] buffers, @Advice.FieldValue("handler") Object handler,
                     @Advice.Thrown Throwable thrown, @Advice.Enter long token) {
        if (token != 0L) {
            WebSocketCalls.tomcatBlockingEnds(endpoint, token);
        } else if (!block && handler != null && thrown == null) {
            WebSocketCalls.tomcatWritePending(endpoint, buffers);
        }
    }
}
