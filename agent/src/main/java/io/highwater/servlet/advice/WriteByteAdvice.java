package io.highwater.servlet.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

/** As {@link WriteArrayAdvice}, for {@code write(int)}: one byte. */
public final class WriteByteAdvice {

    private WriteByteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static boolean enter(@Advice.This Object stream) {
        return ServletCalls.notReadyStreams.get() != 0 && ServletCalls.writeWhileNotReady(stream, 1);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class, backupArguments = false)
    static void exit(@Advice.This Object stream, @Advice.Enter boolean judged, @Advice.Thrown Throwable thrown) {
        if (thrown != null && !judged) {
            ServletCalls.writeRefused(stream, 1, thrown);
        }
    }
}
