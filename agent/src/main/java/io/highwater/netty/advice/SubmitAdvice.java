package io.highwater.netty.advice;

import io.highwater.bootstrap.NettyCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of {@code ChannelOutboundBuffer.incrementPendingOutboundBytes(long)}, which Netty calls
 * on the submitting thread when a write is made from outside the event loop (the write task's size is counted
 * at submit time). Only there is the application's frame still on the stack. The agent tells the two threads apart,
 * and reads the channel and the pending bytes itself: this method is 7 bytes long on its own, and C2 inlines a method
 * up to 35 bytes without asking whether it is hot.
 */
public final class SubmitAdvice {

    private SubmitAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object buffer, @Advice.FieldValue("unwritable") int unwritable) {
        if (unwritable != 0) {
            NettyCalls.submitWhileUnwritable(buffer);
        }
    }
}
