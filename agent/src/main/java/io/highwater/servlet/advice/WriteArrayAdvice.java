package io.highwater.servlet.advice;

import io.highwater.bootstrap.Bridge;
import io.highwater.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of a container stream's {@code write(byte[], int, int)}: before the body runs, so that a
 * write the container then refuses (Tomcat's and Jetty's {@code IllegalStateException}, Jetty's
 * {@code WritePendingException}) is counted too. Fast path: one read of the not-ready counter.
 */
public final class WriteArrayAdvice {

    private WriteArrayAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object stream, @Advice.Argument(2) int len) {
        if (Bridge.servletNotReady.get() != 0) {
            ServletCalls.writeWhileNotReady(stream, len);
        }
    }
}
