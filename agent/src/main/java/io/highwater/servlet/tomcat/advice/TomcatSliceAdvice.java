package io.highwater.servlet.tomcat.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;

/**
 * Inlined at the start of Tomcat's {@code OutputBuffer.realWriteBytes(ByteBuffer)}: a buffer backed by another array
 * than the response buffer's own is a slice of an application array passed down without copying (see
 * {@link TomcatArrayWriteAdvice}); the connection advances its position as it takes the bytes. Flushes of the
 * response buffer itself cost the array comparison.
 */
public final class TomcatSliceAdvice {

    private TomcatSliceAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object outputBuffer, @Advice.Argument(0) ByteBuffer slice,
                      @Advice.FieldValue("bb") ByteBuffer bb) {
        if (slice != null && bb != null && slice.hasArray() && bb.hasArray() && slice.array() != bb.array()) {
            ServletCalls.arraySlice(outputBuffer, slice);
        }
    }
}
