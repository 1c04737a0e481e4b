package io.highwater.servlet.undertow.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;

/**
 * Wraps Undertow's {@code ServletOutputStreamImpl.writeTooLargeForBuffer(byte[], int, int, ByteBuffer)} where the
 * stream has no {@code writeBlocking(ByteBuffer[], int, int, int)} (Undertow 2.2 before that method came): a blocking
 * write larger than the stream's buffer, which copies the buffer's bytes and the application's into pooled buffers
 * and hands them over with XNIO's {@code Channels.writeBlocking}, inline, looping on {@code awaitWritable()}. The
 * copying is memory-speed; the wait is the hand-over. Bytes handed over: the buffer's (in write mode on entry) and
 * the application's.
 */
public final class UndertowLargeWriteAdvice {

    private UndertowLargeWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static long enter(@Advice.This Object stream, @Advice.Argument(2) int len, @Advice.Argument(3) ByteBuffer buffer) {
        return ServletCalls.blockingWriteBegins(stream, len + (buffer == null ? 0 : buffer.position()));
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This Object stream, @Advice.Enter long token, @Advice.Thrown Throwable thrown) {
        ServletCalls.blockingWriteEnds(stream, token, thrown != null);
    }
}
