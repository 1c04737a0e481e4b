package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

import java.util.concurrent.Future;

/**
 * Inlined at the exit of Jetty's default {@code OutgoingFrames.sendFrame(Frame, Callback, boolean)}, which every send
 * of a {@code WebSocketCoreSession} made through that method goes through (the core API's, some of Jetty's own frame
 * handlers and extensions), and at the exit of ee10's {@code JakartaWebSocketRemoteEndpoint} override of it, which
 * hands its frames to the session's {@code sendFrame(OutgoingEntry)} itself (Jakarta's {@code RemoteEndpoint.Basic}
 * sends pass a {@code FutureCallback} there, then wait on it). A send
 * whose completion is a future still not done is remembered, so that a thread waiting on that future next is seen as
 * a blocking send of this session. Fast path: a type test of the callback (a lambda or {@code Callback.NOOP} for
 * asynchronous sends), or {@code isDone()} of a future the socket completed inline.
 */
public final class JettySessionSendAdvice {

    private JettySessionSendAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object sender, @Advice.Argument(1) Object callback) {
        if (callback instanceof Future && !((Future<?>) callback).isDone()) {
            WebSocketCalls.jettySendPending(sender, callback);
        }
    }
}
