package io.highwater.netty.advice;

import io.highwater.netty.bootstrap.NettyCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of {@code ChannelOutboundBuffer.failFlushed(Throwable, boolean)}, which a closing channel
 * calls before {@code close}: the last moment at which the bytes the peer never got are still counted.
 */
public final class FailAdvice {

    private FailAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object buffer, @Advice.FieldValue("totalPendingSize") long pending) {
        NettyCalls.failing(buffer, pending);
    }
}
