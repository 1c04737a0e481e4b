package io.highwater.servlet.undertow.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

/**
 * Wraps Undertow's {@code ServletOutputStreamImpl.writeBlocking(ByteBuffer[], int, int, int)}: a blocking write too
 * large for the stream's buffer, copied into pooled buffers and handed to the channel with XNIO's
 * {@code Channels.writeBlocking}, which loops on {@code awaitWritable()}. As {@link UndertowBufferWriteAdvice}; the
 * last argument is the bytes handed over.
 */
public final class UndertowArrayWriteAdvice {

    private UndertowArrayWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static long enter(@Advice.This Object stream, @Advice.Argument(3) int bytes) {
        return ServletCalls.blockingWriteBegins(stream, bytes);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This Object stream, @Advice.Enter long token, @Advice.Thrown Throwable thrown) {
        ServletCalls.blockingWriteEnds(stream, token, thrown != null);
    }
}
