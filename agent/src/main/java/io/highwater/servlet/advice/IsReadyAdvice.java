package io.highwater.servlet.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the end of {@code ServletOutputStream.isReady()} of a container's stream: false is the async stop
 * signal; true ends a not-ready period (it is what {@code onWritePossible} sees). The true case costs one read of
 * the not-ready counter while no stream is not ready.
 */
public final class IsReadyAdvice {

    private IsReadyAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object stream, @Advice.Return boolean ready) {
        if (!ready) {
            ServletCalls.notReady(stream);
        } else if (ServletCalls.notReadyStreams.get() != 0) {
            ServletCalls.ready(stream);
        }
    }
}
