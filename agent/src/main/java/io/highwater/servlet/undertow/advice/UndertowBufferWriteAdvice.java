package io.highwater.servlet.undertow.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;

/**
 * Wraps Undertow's {@code ServletOutputStreamImpl.writeBufferBlocking(boolean)}: a blocking stream hands its full
 * buffer to the response channel and loops on the channel's {@code awaitWritable()} until the channel took it all.
 * The channel knows nothing of the exchange it belongs to, so the wait is timed here, around the loop, where the
 * stream (and through it the peer) is known. The buffer is still in write mode on entry: its position is the bytes
 * handed over.
 */
public final class UndertowBufferWriteAdvice {

    private UndertowBufferWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static long enter(@Advice.This Object stream, @Advice.FieldValue("buffer") ByteBuffer buffer) {
        return ServletCalls.blockingWriteBegins(stream, buffer == null ? 0 : buffer.position());
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This Object stream, @Advice.Enter long token, @Advice.Thrown Throwable thrown) {
        ServletCalls.blockingWriteEnds(stream, token, thrown != null);
    }
}
