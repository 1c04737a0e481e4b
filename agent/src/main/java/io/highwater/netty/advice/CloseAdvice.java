package io.highwater.netty.advice;

import io.highwater.netty.bootstrap.NettyCalls;
import net.bytebuddy.asm.Advice;

/** Inlined at the start of {@code ChannelOutboundBuffer.close(Throwable, boolean)}: the channel is closing. */
public final class CloseAdvice {

    private CloseAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object buffer, @Advice.FieldValue("totalPendingSize") long pending) {
        NettyCalls.closed(buffer, pending);
    }
}
