package io.highwater.servlet.jetty.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;

/**
 * Inlined at the end of the constructors of Jetty's {@code HttpOutput$AsyncWrite} (12 ee10; 9.4, 10 and 11): an async write whose content is
 * at least the stream's buffer size gets a {@code _slice} and is handed to the connection one buffer-sized slice at a
 * time; the rest stays in the application's content ({@code _buffer}), where no reader of Jetty's connection finds
 * it. Only such writes are announced; the others cost the field test.
 */
public final class JettySlicedWriteAdvice {

    private JettySlicedWriteAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object write, @Advice.FieldValue("this$0") Object stream,
                     @Advice.FieldValue("_slice") ByteBuffer slice) {
        if (slice != null) {
            ServletCalls.slicedAsyncWrite(stream, write);
        }
    }
}
