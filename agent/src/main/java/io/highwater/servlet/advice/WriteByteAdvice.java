package io.highwater.servlet.advice;

import io.highwater.bootstrap.Bridge;
import net.bytebuddy.asm.Advice;

/** As {@link WriteArrayAdvice}, for {@code write(int)}: one byte. */
public final class WriteByteAdvice {

    private WriteByteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object stream) {
        if (Bridge.servletNotReady.get() != 0) {
            Bridge.servlet.writeWhileNotReady(stream, 1);
        }
    }
}
