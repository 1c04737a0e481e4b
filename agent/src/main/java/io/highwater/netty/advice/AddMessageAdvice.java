package io.highwater.netty.advice;

import io.highwater.bootstrap.NettyCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of {@code ChannelOutboundBuffer.addMessage(Object, int, ChannelPromise)}, which runs on
 * the event loop for every message that enters the buffer. Fast path: one volatile field read; the rest is one
 * call, and the agent reads the channel and the pending bytes itself, so that the advice adds as few bytes as it can
 * to a method C2 inlines into every write.
 */
public final class AddMessageAdvice {

    private AddMessageAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object buffer, @Advice.FieldValue("unwritable") int unwritable,
                      @Advice.Argument(1) int size) {
        if (unwritable != 0) {
            NettyCalls.writeWhileUnwritable(buffer, size);
        }
    }
}
