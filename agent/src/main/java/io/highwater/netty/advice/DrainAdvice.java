package io.highwater.netty.advice;

import io.highwater.netty.bootstrap.NettyCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of {@code ChannelOutboundBuffer.removeBytes(long)}, which the NIO, epoll and io_uring
 * transports call after the socket accepted bytes: drain progress, reported only while the channel is unwritable.
 */
public final class DrainAdvice {

    private DrainAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object buffer,
                      @Advice.FieldValue("unwritable") int unwritable,
                      @Advice.Argument(0) long writtenBytes) {
        if (unwritable != 0) {
            NettyCalls.drained(buffer, writtenBytes);
        }
    }
}
