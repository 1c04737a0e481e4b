package io.highwater.netty.advice;

import io.highwater.netty.bootstrap.NettyCalls;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import net.bytebuddy.asm.Advice;

/**
 * {@link PipelineWriteAdvice} for {@code AbstractChannelHandlerContext.write(Object, ChannelPromise)} and
 * {@code writeAndFlush(Object, ChannelPromise)}, handing the promise on as well: a write the guard refuses
 * ({@code highwater.guard.*}, off by default) has its promise completed as cancelled, with the guard's message, and
 * Netty itself then drops the write and releases its message (its check of a cancelled promise at the start of
 * {@code write}). No skip and no exit advice: these methods must stay under {@code MaxInlineSize}
 * ({@code AdviceSizeTest}).
 */
public final class PipelineWritePromiseAdvice {

    private PipelineWritePromiseAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This ChannelHandlerContext ctx, @Advice.Argument(0) Object msg,
                      @Advice.Argument(1) ChannelPromise promise) {
        if (NettyCalls.unwritableChannels.get() != 0) {
            NettyCalls.entersPipeline(ctx, ctx.channel(), msg, promise);
        }
    }
}
