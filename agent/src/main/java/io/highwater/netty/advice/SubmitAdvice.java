package io.highwater.netty.advice;

import io.highwater.bootstrap.Bridge;
import io.netty.channel.Channel;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of {@code ChannelOutboundBuffer.incrementPendingOutboundBytes(long)}, which Netty calls
 * on the submitting thread when a write is made from outside the event loop (the write task's size is counted
 * at submit time). Only there is the application's frame still on the stack.
 */
public final class SubmitAdvice {

    private SubmitAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object buffer,
                      @Advice.FieldValue("unwritable") int unwritable,
                      @Advice.FieldValue("totalPendingSize") long pendingBefore,
                      @Advice.FieldValue("channel") Channel channel) {
        if (unwritable != 0 && !channel.eventLoop().inEventLoop()) {
            Bridge.netty.submitWhileUnwritable(buffer, channel, pendingBefore,
                    channel.config().getWriteBufferHighWaterMark());
        }
    }
}
