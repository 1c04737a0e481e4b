package io.highwater.servlet.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;

/**
 * As {@link WriteArrayAdvice}, for {@code write(ByteBuffer)} (Servlet 6.1; Undertow's own): the buffer's remaining
 * bytes, taken on entry (the write consumes them). A write the guard refused is handed an empty buffer in place of the
 * application's, which keeps its bytes (a failed write consumed nothing).
 */
public final class WriteBufferAdvice {

    private WriteBufferAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static int enter(@Advice.This Object stream, @Advice.Argument(value = 0, readOnly = false) ByteBuffer buffer) {
        int bytes = buffer == null ? 0 : buffer.remaining();
        if (ServletCalls.notReadyStreams.get() != 0) {
            int judged = ServletCalls.judge(stream, bytes);
            if (judged == ServletCalls.REFUSED) {
                buffer = ByteBuffer.allocate(0);
            }
            return judged;
        }
        return bytes;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class, backupArguments = false)
    static void exit(@Advice.This Object stream, @Advice.Enter int unjudged,
                     @Advice.Thrown(readOnly = false) Throwable thrown) {
        if (thrown != null || unjudged == ServletCalls.REFUSED) {
            thrown = ServletCalls.writeEnds(stream, unjudged, thrown);
        }
    }
}
