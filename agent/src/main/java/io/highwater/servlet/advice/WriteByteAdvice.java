package io.highwater.servlet.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

/**
 * As {@link WriteArrayAdvice}, for {@code write(int)}: one byte. A write the guard refused cannot be emptied: its one
 * byte goes to the container, and the write then throws the guard's {@code IOException}.
 */
public final class WriteByteAdvice {

    private WriteByteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static int enter(@Advice.This Object stream) {
        return ServletCalls.notReadyStreams.get() != 0 ? ServletCalls.judge(stream, 1) : 1;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class, backupArguments = false)
    static void exit(@Advice.This Object stream, @Advice.Enter int unjudged,
                     @Advice.Thrown(readOnly = false) Throwable thrown) {
        if (thrown != null || unjudged == ServletCalls.REFUSED) {
            thrown = ServletCalls.writeEnds(stream, unjudged, thrown);
        }
    }
}
