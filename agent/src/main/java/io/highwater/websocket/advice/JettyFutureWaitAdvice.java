package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined around Jetty's {@code FutureCallback.get()} and {@code get(long, TimeUnit)}, where a thread waits for a
 * send's completion ({@code block()} delegates to them): the wait of a session's send remembered by
 * {@link JettySessionSendAdvice} is noted at entry and forgotten at exit; the agent's timer turns one still running
 * after a millisecond into a wait of its connection. Fast path (every other {@code FutureCallback} of Jetty's): one
 * volatile read while no send is remembered.
 */
public final class JettyFutureWaitAdvice {

    private JettyFutureWaitAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static long enter(@Advice.This Object future) {
        return WebSocketCalls.blockingSends != 0 ? WebSocketCalls.jettyBlockingBegins(future) : 0L;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This Object future, @Advice.Enter long token) {
        if (token != 0L) {
            WebSocketCalls.jettyBlockingEnds(future, token);
        }
    }
}
