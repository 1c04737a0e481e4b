package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

import java.util.concurrent.Future;

/**
 * Inlined at the exit of Jetty's default {@code OutgoingFrames.sendFrame(Frame, Callback, boolean)}, which every send
 * of a {@code WebSocketCoreSession} goes through (Jakarta's {@code RemoteEndpoint.Basic} sends pass a
 * {@code FutureCallback} here, then wait on it), as do some of Jetty's own frame handlers and extensions. A send
 * whose completion is a future still not done is remembered, so that a thread waiting on that future next is seen as
 * a blocking send of this session. Fast path: a type test of the callback (a lambda or {@code Callback.NOOP} for
 * asynchronous sends), or {@code isDone()} of a future the socket completed inline.
 */
public final class JettySessionSendAdvice {

    private JettySessionSendAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object session, @Advice.Argument(1) Object callback) {
        if (callback instanceof Future && !((Future<?>) callback).isDone()) {
            WebSocketCalls.jettySendPending(session, callback);
        }
    }
}
