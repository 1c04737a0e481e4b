package io.highwater.http2.advice;

import io.highwater.http2.bootstrap.Http2Calls;
import net.bytebuddy.asm.Advice;

/**
 * On {@code AbstractHttp2StreamChannel.fireChannelWritabilityChanged(boolean)}, which Netty calls only when a stream
 * channel's writability flips (above its high-water mark, or below its low-water mark with the parent writable): the
 * stream's stop and go signals. Transitions only, so no gate.
 */
public final class ChildWritabilityAdvice {

    private ChildWritabilityAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object child) {
        Http2Calls.childWritabilityChanged(child);
    }
}
