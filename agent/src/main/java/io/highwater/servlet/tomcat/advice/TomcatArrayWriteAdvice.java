package io.highwater.servlet.tomcat.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;

/**
 * Wraps Tomcat's {@code OutputBuffer.appendByteArray(byte[], int, int)}, where an application write that does not fit
 * the response buffer {@code bb} is passed down in slices of the application's own array, without copying (the last
 * piece shorter than the buffer is copied into it). While that runs, the bytes not passed down yet are in the
 * application's array, where no reader of Tomcat's objects finds them; they are announced here, once per such write.
 * Smaller writes cost the length test.
 */
public final class TomcatArrayWriteAdvice {

    private TomcatArrayWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static boolean enter(@Advice.This Object outputBuffer, @Advice.Argument(0) byte[] array,
                         @Advice.Argument(1) int off, @Advice.Argument(2) int len,
                         @Advice.FieldValue("bb") ByteBuffer bb) {
        if (bb != null && len > bb.capacity()) {
            ServletCalls.arrayWriteBegins(outputBuffer, array, off, len);
            return true;
        }
        return false;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class, backupArguments = false)
    static void exit(@Advice.This Object outputBuffer, @Advice.Enter boolean announced) {
        if (announced) {
            ServletCalls.arrayWriteEnds(outputBuffer);
        }
    }
}
