package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined around Tomcat's {@code WsRemoteEndpointImplServer.doWrite(SendHandler, boolean, long, ByteBuffer...)} when
 * {@code block} is true: the write of a {@code RemoteEndpoint.Basic} send (or a send stream's or writer's flush),
 * which the calling thread waits in until the socket has taken every byte or the send timed out. The write is noted
 * at entry and forgotten at exit; the agent's timer turns one still running after a millisecond into a wait of its
 * connection. Fast path of a non-blocking write: one test of {@code block}; of a blocking write, one call each way.
 */
public final class TomcatBlockingWriteAdvice {

    private TomcatBlockingWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static long enter(@Advice.This Object endpoint, @Advice.Argument(1) boolean block,
                      @Advice.Argument(3) Object[] buffers) {
        return block ? WebSocketCalls.tomcatBlockingBegins(endpoint, buffers) : 0L;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This Object endpoint, @Advice.Enter long token) {
        if (token != 0L) {
            WebSocketCalls.tomcatBlockingEnds(endpoint, token);
        }
    }
}
