package io.highwater.servlet.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of the container's end-of-response hook for its stream (Tomcat's
 * {@code CoyoteOutputStream.clear()}, Jetty's {@code HttpOutput.recycle()}): a stream left not ready (the client
 * went away before it drained) stops counting as not ready.
 */
public final class RecycleAdvice {

    private RecycleAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object stream) {
        if (ServletCalls.notReadyStreams.get() != 0) {
            ServletCalls.recycled(stream);
        }
    }
}
