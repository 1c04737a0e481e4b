package io.highwater.servlet.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;

/**
 * As {@link WriteArrayAdvice}, for {@code write(ByteBuffer)} (Servlet 6.1; Undertow's own): the buffer's remaining
 * bytes, taken on entry (the write consumes them).
 */
public final class WriteBufferAdvice {

    private WriteBufferAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static int enter(@Advice.This Object stream, @Advice.Argument(0) ByteBuffer buffer) {
        int bytes = buffer == null ? 0 : buffer.remaining();
        if (ServletCalls.notReadyStreams.get() != 0 && ServletCalls.writeWhileNotReady(stream, bytes)) {
            return -1;
        }
        return bytes;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class, backupArguments = false)
    static void exit(@Advice.This Object stream, @Advice.Enter int unjudged, @Advice.Thrown Throwable thrown) {
        if (thrown != null && unjudged >= 0) {
            ServletCalls.writeRefused(stream, unjudged, thrown);
        }
    }
}
