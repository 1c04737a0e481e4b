package io.highwater.netty.advice;

import io.highwater.netty.bootstrap.NettyCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of {@code ChannelOutboundBuffer.fireChannelWritabilityChanged(boolean)}, which Netty calls
 * only on a transition, after the new state is stored.
 */
public final class WritabilityAdvice {

    private WritabilityAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object buffer,
                      @Advice.FieldValue("unwritable") int unwritable,
                      @Advice.FieldValue("totalPendingSize") long pending,
                      @Advice.FieldValue("channel") Object channel) {
        NettyCalls.writabilityChanged(buffer, channel, unwritable, pending);
    }
}
