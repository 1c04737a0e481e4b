package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the exit of Jetty's private {@code WebSocketFlusher.notifyCallbackSuccess(OutgoingEntry)}, once per
 * frame written: progress of a backed-up session, and its end when the queue is empty. Fast path: one volatile read
 * while no session waits.
 */
public final class JettyEntryDoneAdvice {

    private JettyEntryDoneAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object flusher) {
        if (WebSocketCalls.waiting != 0) {
            WebSocketCalls.jettyEntryDone(flusher);
        }
    }
}
