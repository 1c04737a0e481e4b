package io.highwater.servlet.advice;

import io.highwater.bootstrap.Bridge;
import io.highwater.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

/** As {@link WriteArrayAdvice}, for {@code write(int)}: one byte. */
public final class WriteByteAdvice {

    private WriteByteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object stream) {
        if (Bridge.servletNotReady.get() != 0) {
            ServletCalls.writeWhileNotReady(stream, 1);
        }
    }
}
