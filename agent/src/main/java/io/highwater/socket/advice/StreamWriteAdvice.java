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

    /**
     * A write the guard refused ({@code highwater.guard.action=fail}) throws the guard's {@code IOException} in place
     * of the JDK's "Socket closed": the one assignment to {@code thrown}, which is the write's own exception otherwise.
     */
    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This Object socket, @Advice.Enter Object slot,
                     @Advice.Thrown(readOnly = false) Throwable thrown) {
        thrown = SocketWrites.streamWriteEnds(slot, socket, thrown);
    }
}
