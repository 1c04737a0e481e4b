package io.highwater.socket.advice;

import io.highwater.socket.bootstrap.SocketWrites;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code sun.nio.ch.NioSocketImpl.implWrite(byte[], int, int)}, one call per chunk (at most 128 KiB) of
 * a {@code Socket} output stream write, and into {@code SocketChannelImpl.blockingWriteFully(byte[], int, int)}
 * (the stream of a channel's socket adaptor, JDK 21+): such a write blocks until the kernel took the bytes.
 */
public final class StreamWriteAdvice {

    private StreamWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static Object enter(@Advice.This Object socket, @Advice.Argument(2) int len) {
        return SocketWrites.begin(socket, len);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.Enter Object slot, @Advice.Thrown Throwable thrown) {
        SocketWrites.streamWriteEnds(slot, thrown);
    }
}
