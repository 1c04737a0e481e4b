package io.highwater.socket.advice;

import io.highwater.socket.bootstrap.SocketWrites;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code SelChImpl.park(int, long)}: where a blocking {@code SocketChannel} write waits when its
 * descriptor is non-blocking (virtual threads). Runs only when an operation found the channel not ready.
 */
public final class ChannelParkAdvice {

    private ChannelParkAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object channel, @Advice.Argument(0) int event) {
        SocketWrites.parking(channel, event);
    }
}
