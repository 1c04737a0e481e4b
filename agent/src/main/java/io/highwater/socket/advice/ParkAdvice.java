package io.highwater.socket.advice;

import io.highwater.socket.bootstrap.SocketWrites;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code NioSocketImpl.park(FileDescriptor, int, long)}: where a socket write waits when its descriptor
 * is non-blocking (virtual threads; on JDK 17 also a socket that once read with a timeout). Runs only when an
 * operation found the socket not ready.
 */
public final class ParkAdvice {

    private ParkAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object socket, @Advice.Argument(1) int event) {
        SocketWrites.parking(socket, event);
    }
}
