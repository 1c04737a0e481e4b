package io.highwater.netty.advice;

import io.highwater.bootstrap.Bridge;
import io.netty.channel.Channel;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of {@code ChannelOutboundBuffer.addMessage(Object, int, ChannelPromise)}, which runs on
 * the event loop for every message that enters the buffer. Fast path: one volatile field read.
 */
public final class AddMessageAdvice {

    private AddMessageAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object buffer,
                      @Advice.FieldValue("unwritable") int unwritable,
                      @Advice.FieldValue("totalPendingSize") long pendingBefore,
                      @Advice.FieldValue("channel") Channel channel,
                      @Advice.Argument(1) int size) {
        if (unwritable != 0) {
            Bridge.netty.writeWhileUnwritable(buffer, channel, pendingBefore,
                    channel.config().getWriteBufferHighWaterMark(), size);
        }
    }
}
