package io.highwater.servlet.advice;

import io.highwater.bootstrap.Bridge;
import io.highwater.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;

/** As {@link WriteArrayAdvice}, for {@code write(ByteBuffer)} (Servlet 6.1): the buffer's remaining bytes. */
public final class WriteBufferAdvice {

    private WriteBufferAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object stream, @Advice.Argument(0) ByteBuffer buffer) {
        if (Bridge.servletNotReady.get() != 0) {
            ServletCalls.writeWhileNotReady(stream, buffer == null ? 0 : buffer.remaining());
        }
    }
}
